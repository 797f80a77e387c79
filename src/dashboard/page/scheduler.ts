// Redraws, throttled: data may arrive many times a frame (a 100k-line log comes in a few hundred
// events), but each chart draws at most once per animation frame, those on screen first, and a frame
// draws charts only until its budget is spent; the rest wait for the next frame. A chart whose draw is
// costly (100k points to downsample) waits a few times its last draw's duration before the next, so
// live updates take a bounded share of the main thread, whatever arrives.

export interface Drawable {
  /** The element whose visibility decides whether drawing it is worth anything now. */
  readonly root: Element;
  draw(): void;
}

/** Milliseconds of drawing per frame (of ~16): leaves the rest for input and the browser. */
const FRAME_BUDGET_MS = 10;
/** A chart redraws no sooner than this many times its last draw's duration after it: at most ~1/4 of the thread. */
const COST_SPACING = 3;

export class Scheduler {
  private dirty = new Set<Drawable>();
  private visible = new WeakSet<Element>();
  private frame = 0;
  private cost = new WeakMap<Drawable, { at: number; ms: number }>();
  private observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting) this.visible.add(e.target);
        else this.visible.delete(e.target);
      }
      this.schedule();
    },
    { rootMargin: '200px' },
  );

  watch(d: Drawable): void {
    this.observer.observe(d.root);
    this.request(d);
  }

  unwatch(d: Drawable): void {
    this.observer.unobserve(d.root);
    this.dirty.delete(d);
  }

  request(d: Drawable): void {
    this.dirty.add(d);
    this.schedule();
  }

  private schedule(): void {
    if (this.frame === 0 && this.dirty.size > 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = 0;
    const start = performance.now();
    const spent = () => performance.now() - start;
    // On screen first; then, with what is left of the budget, off screen (so a scroll finds them drawn).
    for (const onScreen of [true, false]) {
      for (const d of this.dirty) {
        if (this.visible.has(d.root) !== onScreen) continue;
        if (!onScreen && spent() > FRAME_BUDGET_MS / 2) break;
        const last = this.cost.get(d);
        const t0 = performance.now();
        if (last && t0 - last.at < last.ms * COST_SPACING) continue; // stays dirty: a later frame
        this.dirty.delete(d);
        try {
          d.draw();
        } catch (e) {
          console.error('resnorm dashboard: a chart failed to draw', e);
        }
        const t1 = performance.now();
        this.cost.set(d, { at: t1, ms: t1 - t0 });
        if (spent() > FRAME_BUDGET_MS) break;
      }
      if (spent() > FRAME_BUDGET_MS) break;
    }
    this.schedule();
  }
}
