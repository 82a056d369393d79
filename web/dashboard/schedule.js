// Coalesced rendering: a component marked dirty any number of times between two animation frames
// is rendered once, in the next frame. Events only update models and call invalidate(); all DOM
// and chart work happens in render(), so a 30 Hz stream costs one redraw per frame at most.

const dirty = new Set();
let pending = false;

/** Renders `component` (an object with render()) in the next animation frame. */
export function invalidate(component) {
  dirty.add(component);
  if (pending) return;
  pending = true;
  requestAnimationFrame(flush);
}

function flush() {
  pending = false;
  const batch = [...dirty];
  dirty.clear();
  for (const c of batch) {
    try {
      c.render();
    } catch (err) {
      console.error('render failed', err);
    }
  }
}
