/* A finished file of a recording writer (Mp4Writer, TsWriter): what the
 * writer reports for each segment, and for the last file on close. Plain C. */
#ifndef QCAM_SEGMENT_H
#define QCAM_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char path[512];    /* board path of the finished file */
    unsigned index;    /* segment number, 0, 1, ... */
    double duration;   /* seconds of media */
    uint64_t size;     /* bytes on storage */
    uint64_t frames;   /* video frames (samples) in it */
    bool full;         /* segments: ended early because the card was full */
} qcam_segment_info;

#endif
