// Runs a callback once before the next paint: many changes in one frame are
// one notification and one render. requestAnimationFrame stops in a hidden tab
// (and does not exist outside a window), so a timer runs it there instead;
// whichever fires first wins and the other is cancelled.
const FALLBACK_MS = 100;

export function nextFrame(callback: () => void): () => void {
  let done = false;
  let frame: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (): void => {
    if (done) return;
    done = true;
    if (frame !== undefined) cancelAnimationFrame(frame);
    clearTimeout(timer);
    callback();
  };
  const raf = typeof requestAnimationFrame === 'function';
  if (raf) frame = requestAnimationFrame(run);
  timer = setTimeout(run, raf ? FALLBACK_MS : 0);
  return () => {
    done = true;
    if (frame !== undefined) cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}
