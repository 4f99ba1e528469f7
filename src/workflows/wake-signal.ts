/** Wakes the claim loop: at once (`kick`), or when a timer this process parked an instance on comes due. */
export interface WakeSignal {
  /** Wakes the loop now (or its next sleep, if it is not asleep). */
  kick(): void;
  /** Sleeps up to `ms` milliseconds, or until kicked. */
  sleep(ms: number): Promise<void>;
  /** Kicks the loop at `time` (ms since the epoch); far-off times are left to the poll. */
  wakeAt(time: number): void;
  /** Clears the pending wake timer. */
  stop(): void;
}

/** Timers further off than this (ms) are left to the poll. */
const FAR_OFF_MS = 3_600_000;
/** Most wake times kept: a bounded list keeps a burst of parks cheap. */
const MAX_WAKE_TIMES = 10_000;

/** Creates the wake signal of an engine's claim loop; timers are armed only while `running()`. */
export function createWakeSignal(running: () => boolean): WakeSignal {
  let kicked = false;
  let wakeLoop: (() => void) | undefined;
  const kick = () => {
    kicked = true;
    wakeLoop?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked) {
        kicked = false;
        return resolve();
      }
      const timer = setTimeout(done, ms);
      wakeLoop = done;
      function done() {
        clearTimeout(timer);
        wakeLoop = undefined;
        kicked = false;
        resolve();
      }
    });

  // Sorted times this process parked instances on: one timer is armed for the soonest.
  const wakeTimes: number[] = [];
  let wakeTimer: NodeJS.Timeout | undefined;
  const armWakeTimer = () => {
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
    wakeTimer = undefined;
    const now = Date.now();
    while (wakeTimes.length > 0 && wakeTimes[0]! <= now) wakeTimes.shift();
    const next = wakeTimes[0];
    if (next === undefined || !running()) return;
    wakeTimer = setTimeout(
      () => {
        kick();
        armWakeTimer();
      },
      Math.max(1, next - now),
    );
    wakeTimer.unref();
  };
  const wakeAt = (time: number) => {
    if (!running() || time - Date.now() > FAR_OFF_MS) return;
    let low = 0;
    let high = wakeTimes.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (wakeTimes[mid]! < time) low = mid + 1;
      else high = mid;
    }
    if (wakeTimes[low] === time) return;
    wakeTimes.splice(low, 0, time);
    if (wakeTimes.length > MAX_WAKE_TIMES) wakeTimes.pop();
    if (low === 0) armWakeTimer();
  };
  const stop = () => {
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
  };
  return { kick, sleep, wakeAt, stop };
}
