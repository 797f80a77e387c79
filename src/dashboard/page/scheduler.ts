// Redraws, throttled: data may arrive many times a frame (a 100k-line log comes in a few hundred
// events), but each chart draws at most once per animation frame, those on screen first, and a frame
// draws charts only until its budget is spent; the rest wait for the next frame. So the main thread is
// never held for long, whatever arrives.

export interface Drawable {
  /** The element whose visibility decides whether drawing it is worth anything now. */
  readonly root: Element;
  draw(): void;
}

/** Milliseconds of drawing per frame (of ~16): leaves the rest for input and the browser. */
const FRAME_BUDGET_MS = 10;

export class Scheduler {
  private dirty = new Set<Drawable>();
  private visible = new WeakSet<Element>();
  private frame = 0;
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
        this.dirty.delete(d);
        try {
          d.draw();
        } catch (e) {
          console.error('resnorm dashboard: a chart failed to draw', e);
        }
        if (spent() > FRAME_BUDGET_MS) break;
      }
      if (spent() > FRAME_BUDGET_MS) break;
    }
    this.schedule();
  }
}
