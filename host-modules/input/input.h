/* qcam:input HAL: the board's keys and touch panel. Plain C, no engine
 * types, negative errno returns.
 *
 * Model. Keys have MaixCAM's names. A key going down is a press, going up a
 * release; held QCAM_LONGPRESS_MS it also gives one longpress (before its
 * release). Touch gives down, move and up with panel coordinates. Events go to
 * every open listener, in order, from the backend's thread: a listener copies
 * what it needs and posts it to its app's loop (native threads never call
 * JavaScript). Listeners opened as `app` listeners are the apps' Input
 * objects; qcam_input_app_listeners() counts them, so the runtime's default
 * (a long press of ok requests exit) applies only when no app reads keys.
 *
 * Lifetimes. qcam_input_close() returns only when the listener's function
 * is not running and will not run again.
 *
 * Board mapping (docs/porting.md; no board backend yet): MaixCAM's keys and
 * touch panel are Linux input devices (/dev/input/event*: EV_KEY for the user
 * key, EV_ABS ABS_MT_POSITION_X/Y for the touch panel), read by one thread
 * with poll(); K230 (RT-Smart): the keys are GPIOs (kd_mpi_gpio / the
 * rt_device "gpio" pin read with interrupts) and the touch panel the ft5x16
 * touch device (rt_device_read of struct rt_touch_data: x, y, event, track
 * id). On the sim the browser page feeds qcam_input_sim_*(). */
#ifndef QCAM_INPUT_HAL_H
#define QCAM_INPUT_HAL_H

#include <stdbool.h>
#include <stdint.h>

#define QCAM_LONGPRESS_MS 1000

typedef enum { QCAM_KEY_OK, QCAM_KEY_OPTION, QCAM_KEY_NEXT, QCAM_KEY_PREV, QCAM_KEY_LEFT, QCAM_KEY_RIGHT, QCAM_KEY_COUNT } qcam_key;

typedef enum {
    QCAM_IN_PRESS,
    QCAM_IN_RELEASE,
    QCAM_IN_LONGPRESS,
    QCAM_IN_TOUCH_DOWN,
    QCAM_IN_TOUCH_MOVE,
    QCAM_IN_TOUCH_UP,
} qcam_input_kind;

typedef struct {
    qcam_input_kind kind;
    qcam_key key; /* keys */
    int x, y, id; /* touch: panel pixels, track id (0 for a single touch) */
    int64_t t_us; /* monotonic microseconds */
} qcam_input_event;

/* "ok", "option", "next", "prev", "left", "right"; -1 / NULL otherwise. */
int qcam_key_parse(const char *name);
const char *qcam_key_name(int key);
/* "press", "release", "longpress", "down", "move", "up". */
const char *qcam_input_kind_name(qcam_input_kind kind);

typedef void qcam_input_fn(void *opaque, const qcam_input_event *ev);
typedef struct qcam_input qcam_input;

/* -ENOMEM, -ENOSPC (too many listeners). */
int qcam_input_open(qcam_input_fn *fn, void *opaque, bool app, qcam_input **out);
void qcam_input_close(qcam_input *in);
int qcam_input_app_listeners(void);

/* Sim: what the page sends. Keys: down/up (a longpress follows from
 * holding: qcam_input_sim_tick makes it); touch: a kind and a point. */
void qcam_input_sim_key(qcam_key key, bool down);
void qcam_input_sim_touch(qcam_input_kind kind, int x, int y);
/* Call often (every <= 50 ms): emits due longpresses. */
void qcam_input_sim_tick(void);

#endif
