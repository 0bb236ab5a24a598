// The qcam UI kit: screens with a back stack, list menus, toggles, choices, number
// steppers, confirm dialogs, a status bar and toasts on qcam:display, driven by qcam:input
// keys or touches from the app's loop. Import it relatively from an app (esbuild bundles
// it into the app's image like any other source file):
//
//   import { Ui, Screen, Item, Toggle } from "../ui/index.ts";
//
// See docs/api/ui.md.
export { Ui, Painter, StatusBar, type AlertOptions, type ConfirmOptions, type StatusField, type UiOptions, type UiStats } from "./ui.ts";
export { Screen, Widget, Item, Text, Toggle, Choice, Stepper, type ItemOptions, type StepperOptions, type ScreenOptions, type RowState, type Target } from "./widgets.ts";
export { DEFAULT_THEME, MIN_TARGET, fontSizeFor, metricsFor, type Metrics, type Theme } from "./theme.ts";
