package io.losswatch.core.diagnosis;

/**
 * Classifies a run step by step from its loss and, for runs trained in-process, its update geometry (the
 * cosine between successive updates, and how much of the first-order predicted decrease a step delivered).
 * Pure, and allocation-free per step but for its text (written when the verdict changes, or once a window);
 * one instance per run, fed from one thread.
 *
 * <p>The rules, over a window of {@link #WINDOW} steps of an exponentially smoothed loss (so a noisy
 * minibatch loss does not flap):
 * <ul>
 *   <li>non_finite: a NaN or infinite loss or gradient, at once;
 *   <li>diverging: the smoothed loss grew over ×4 in the window with most steps up, or sits over ×1000
 *       above its running minimum, or over ×10 and still rising ×1.5 in the window (a noisy minibatch loss
 *       blows up with half its steps down; it stays diverging there until it falls again) — at once, with the steps left before the loss overflows when it
 *       grows steadily;
 *   <li>converged, once the loss is at its floor: the gradient has all but vanished (at most 1e-4 of its
 *       largest), or the loss fell under 1e-12 of its first (or to 0) for a window — even while the updates still
 *       flip direction (x² at lr 0.9 shrinks as fast as at lr 0.1);
 *   <li>oscillating: successive updates point in opposite directions on average (cosine &lt; −0.5), or the
 *       loss alternates up and down with no net progress;
 *   <li>converged too when the lr was annealed under 1% of its peak and the loss stopped moving;
 *   <li>too_slow: under 1% relative improvement per step while each step delivers what its first-order
 *       prediction promised (efficiency &gt; 0.9: steps are small against the curvature, so a larger one
 *       would give proportionally more), or — without geometry — the loss creeps while the gradient is
 *       not small;
 *   <li>converging otherwise.
 * </ul>
 * Other verdicts must hold for {@link #HOLD} steps in a row before they replace the current one, and
 * too_slow and oscillating are left past looser thresholds than they are entered (hysteresis). While a
 * schedule raises the lr (a warmup), the run is not called too slow. A warmup's rising lr and a one-cycle peak bend the loss by far less than ×4, so they are
 * not mistaken for divergence.
 *
 * <p>While a verdict holds, its advice and evidence are written afresh every {@link #WINDOW} steps, so the
 * numbers they quote (the loss, the steps left before it overflows, …) follow the run: {@link #observe}
 * tells a mere refresh ({@link Change#REFRESHED}) from news ({@link Change#CHANGED}: another verdict, or a
 * suggested lr that moved by over 10%). Once the run ended ({@link #end}), the verdict stays, without advice.
 */
public final class Diagnoser {
  public static final int WINDOW = 20;
  public static final int HOLD = 20;
  private static final double ALPHA = 2.0 / (WINDOW + 1);
  /** An "overflows in about N steps" past this is no estimate worth printing. */
  static final double MAX_OVERFLOW_STEPS = 1e6;
  /** The floor: the gradient norm at most this fraction of its largest, or … */
  static final double GRAD_FLOOR = 1e-4;
  /** … the smoothed loss under this fraction of its first. */
  static final double LOSS_FLOOR = 1e-12;

  /** What a step did to the diagnosis. */
  public enum Change {
    /** Nothing to tell. */
    NONE,
    /** The same verdict and suggestion, its text written afresh (the numbers it quotes moved). */
    REFRESHED,
    /** Another verdict, or a suggested lr that moved by over 10%: news, for alerts. */
    CHANGED
  }

  /** A loss under this fraction of the run's largest is too small to be called diverging. */
  static final double BLOW_UP_FLOOR = 1e-3;
  private final double[] smooth = new double[WINDOW + 1];
  private final double[] raw = new double[WINDOW + 1];
  private final double[] lrs = new double[WINDOW + 1];
  // the window's statistics are kept as running sums: this runs every step of every run
  private final Window cosines = new Window(WINDOW);
  private final Window efficiencies = new Window(WINDOW);
  private final Window ups = new Window(WINDOW);        // 1 when the loss went up at that step
  private final Window flips = new Window(WINDOW - 1);  // 1 when it turned around there
  private double lastDelta;
  private int n;
  private double ewma = Double.NaN;
  private double minSmooth = Double.POSITIVE_INFINITY;
  private double maxGrad;
  private double maxLr;
  private double firstLoss;
  /** The run's largest smoothed loss, kept across lr changes: the scale a blow-up is measured against. */
  private double peak;
  private Diagnosis current = Diagnosis.UNKNOWN;
  private long describedAt;
  private double announcedLr = Double.NaN;   // the suggestion last told as news
  private boolean ended;
  private Verdict candidate = Verdict.UNKNOWN;
  private long candidateSince;
  private int candidateCount;

  /**
   * Forgets the past (after an lr change: a new regime deserves a fresh look); the verdict is unknown again.
   * An ended run's diagnosis stays as it ended: {@link #startOver()} begins a new cycle.
   */
  public void reset() {
    if (ended) return;
    current = Diagnosis.UNKNOWN;
    announcedLr = Double.NaN;
    n = 0;
    cosines.clear();
    efficiencies.clear();
    ups.clear();
    flips.clear();
    ewma = Double.NaN;
    minSmooth = Double.POSITIVE_INFINITY;
    maxGrad = 0;
    maxLr = 0;
    candidateCount = 0;
  }

  /** A new cycle of a run that ended (a demo run starting over): everything forgotten. */
  public void startOver() {
    ended = false;
    peak = 0;
    reset();
  }

  /**
   * The run ended at {@code step} ({@code how}: its end state, "finished", "stopped", …): the verdict stays, its advice
   * says the run ended, and no step changes it any more.
   */
  public void end(long step, String how) {
    if (ended) return;
    current = current.ended(step, how);
    ended = true;
  }

  public boolean ended() {
    return ended;
  }

  public Diagnosis current() {
    return current;
  }

  /**
   * Takes one step and tells what it did to the diagnosis. {@code cosine} and {@code efficiency} are NaN
   * for runs without update geometry.
   */
  public Change observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    if (ended) return Change.NONE;
    // a NaN gradient norm is not known (a script that does not send it), unless the run had given finite ones
    if (!Double.isFinite(loss) || Double.isInfinite(gradNorm) || (Double.isNaN(gradNorm) && maxGrad > 0)) {
      boolean already = current.verdict() == Verdict.NON_FINITE;
      if (already && step - describedAt < WINDOW) return Change.NONE;
      return set(step, new Diagnosis(Verdict.NON_FINITE, "cut the lr ÷10 to " + fmt(lr / 10) + " and start again",
          nice(lr / 10), already ? current.sinceStep() : step, (Double.isFinite(loss) ? "gradient norm " : "loss ")
              + (Double.isFinite(loss) ? gradNorm : loss) + " at step " + step));
    }
    if (Double.isNaN(ewma)) firstLoss = loss;
    ewma = Double.isNaN(ewma) ? loss : ewma + ALPHA * (loss - ewma);
    int slot = n % (WINDOW + 1);
    smooth[slot] = ewma;
    raw[slot] = loss;
    lrs[slot] = lr;
    cosines.add(cosine);
    efficiencies.add(Math.max(-5, Math.min(5, efficiency)));
    if (n > 0) {
      double delta = loss - raw[(n - 1) % (WINDOW + 1)];
      ups.add(delta > 0 ? 1 : 0);
      if (n > 1) flips.add(delta * lastDelta < 0 ? 1 : 0);
      lastDelta = delta;
    }
    n++;
    minSmooth = Math.min(minSmooth, ewma);
    if (ewma > peak) peak = ewma;
    if (Double.isFinite(gradNorm)) maxGrad = Math.max(maxGrad, gradNorm);
    if (Double.isFinite(lr)) maxLr = Math.max(maxLr, lr);
    if (n <= WINDOW) return Change.NONE;
    Verdict v = classify(loss, lr, gradNorm);
    if (v == current.verdict()) {
      candidateCount = 0;
      // a schedule moves the lr every step: the text follows it once a window, unless the suggestion moved far
      if (step - describedAt >= WINDOW || moved(suggestion(v, lr))) {
        return set(step, describe(v, current.sinceStep(), loss, lr, gradNorm));
      }
      return Change.NONE;
    }
    if (v != candidate || candidateCount == 0) {
      candidate = v;
      candidateSince = step;
      candidateCount = 0;
    }
    candidateCount++;
    boolean urgent = v == Verdict.DIVERGING || current.verdict() == Verdict.UNKNOWN;
    if (!urgent && candidateCount < HOLD) return Change.NONE;
    return set(step, describe(v, urgent ? step : candidateSince, loss, lr, gradNorm));
  }

  /** Whether a suggestion (NaN: none) differs from the one last told as news: there or not, or over 10% off. */
  private boolean moved(double suggested) {
    return Double.isNaN(suggested) != Double.isNaN(announcedLr)
        || (!Double.isNaN(suggested) && Math.abs(suggested / announcedLr - 1) > 0.1);
  }

  private Change set(long step, Diagnosis d) {
    Diagnosis was = current;
    current = d;
    candidateCount = 0;
    describedAt = step;
    if (d.verdict() != was.verdict() || moved(d.suggestedLr())) {
      announcedLr = d.suggestedLr();
      return Change.CHANGED;
    }
    return d.equals(was) ? Change.NONE : Change.REFRESHED;
  }

  // what the last classification measured, for describe()
  private double ratio;
  private double now;
  private double then;
  private double highest;   // the highest raw loss in the window, when the loss floor was checked
  private double cos;
  private double eff;
  private double perStep;
  private double oscillationRule;   // the cosine threshold the oscillating verdict fired on; NaN: the flips rule
  private boolean floorByGradient;

  /** The verdict for this step, from numbers alone: it runs every step, so it builds no strings. */
  private Verdict classify(double loss, double lr, double gradNorm) {
    now = smooth[(n - 1) % (WINDOW + 1)];
    then = smooth[n % (WINDOW + 1)];   // WINDOW steps ago
    ratio = now / then;
    cos = cosines.mean();
    eff = efficiencies.mean();
    perStep = 1 - Math.pow(ratio, 1.0 / WINDOW);   // relative improvement per step
    // near its floor a loss may bounce by any factor and still be nothing (Adam on rosenbrock leaps from 1e-30 to
    // 3e-4 and back, every few hundred steps): a blow-up must climb back to a thousandth of the run's largest loss
    boolean significant = now > BLOW_UP_FLOOR * peak;
    if (significant && ((ratio > 4 && ups.sum() >= 0.7 * WINDOW) || (minSmooth > 0 && now > 1000 * minSmooth)
        || (minSmooth > 0 && now > 10 * minSmooth && ratio > (current.verdict() == Verdict.DIVERGING ? 0.9 : 1.5)))) {
      return Verdict.DIVERGING;
    }
    // at its floor, a loss that still flips (x² at lr 0.9) has converged all the same
    floorByGradient = gradNorm <= GRAD_FLOOR * maxGrad;
    if (floorByGradient || lossAtFloor()) return Verdict.CONVERGED;
    // band hysteresis: a verdict is entered past one threshold and left past a looser one
    double cosRule = current.verdict() == Verdict.OSCILLATING ? -0.3 : -0.5;
    if (cos < cosRule || (flips.sum() >= FLIPS && ratio > 0.99)) {
      oscillationRule = cos < cosRule ? cosRule : Double.NaN;
      return Verdict.OSCILLATING;
    }
    if (lr < 0.01 * maxLr && Math.abs(perStep) < 1e-4) return Verdict.CONVERGED;
    boolean linear = Double.isNaN(eff) ? gradNorm > 0.01 * maxGrad : eff > 0.9;
    boolean rising = lr > 1.05 * lrs[n % (WINDOW + 1)];   // a warmup is raising the lr already
    double slow = current.verdict() == Verdict.TOO_SLOW ? 0.02 : 0.01;
    if (perStep < slow && perStep > -0.001 && linear && !rising) return Verdict.TOO_SLOW;
    return Verdict.CONVERGING;
  }

  /**
   * Whether every loss in the window is under {@link #LOSS_FLOOR} of the first, or 0 (it underflowed): the raw
   * losses, as the smoothed one falls no faster than its smoothing forgets (×0.9 a step).
   */
  private boolean lossAtFloor() {
    highest = raw[0];
    for (double l : raw) highest = Math.max(highest, l);
    return highest == 0 || (firstLoss > 0 && highest > 0 && highest < LOSS_FLOOR * firstLoss);
  }

  /** Turns in a window that make the loss's alternation an oscillation: 80% of the window's 19, so 16. */
  private static final int FLIPS = (int) Math.ceil(0.8 * (WINDOW - 1));

  private static double suggestion(Verdict v, double lr) {
    return switch (v) {
      case DIVERGING, OSCILLATING, NON_FINITE -> lr / 10;
      case TOO_SLOW -> lr * 10;
      default -> Double.NaN;
    };
  }

  /** The verdict with its advice and evidence, in words: built when the diagnosis changes, or once a window. */
  private Diagnosis describe(Verdict v, long since, double loss, double lr, double gradNorm) {
    double to = nice(suggestion(v, lr));
    return switch (v) {
      case DIVERGING -> {
        double rawRatio = rawAgo(0) / rawAgo(WINDOW);   // the smoothed loss lags: the raw one tells the pace
        double growth = rawRatio > 1 ? rawRatio : ratio;
        String grew = (Double.isFinite(ratio) ? "the loss grew ×" + fmt(ratio) : "the loss grew from 0") + " over the last "
            + WINDOW + " steps (" + (int) ups.sum() + " of them up), now " + fmt(loss)
            + (minSmooth > 0 ? ", " + fmt(now / minSmooth) + "× its minimum" : "");
        // a steady growth, extrapolated: only a sane, finite estimate is printed
        double left = Math.ceil(Math.log(Double.MAX_VALUE / Math.max(loss, Double.MIN_NORMAL)) / (Math.log(growth) / WINDOW));
        if (!(growth >= 1.5) || ups.sum() < 0.7 * WINDOW || !(left >= 1 && left <= MAX_OVERFLOW_STEPS)) {
          yield new Diagnosis(v, "cut the lr ÷10 to " + fmt(to), to, since, grew);   // levelled off, or too noisy
        }
        String overflow = "overflows in about " + (long) left + " steps";
        yield new Diagnosis(v, "cut the lr ÷10 to " + fmt(to) + "; the loss " + overflow, to, since, grew + "; it " + overflow);
      }
      case OSCILLATING -> new Diagnosis(v, "cut the lr ÷10 to " + fmt(to), to, since, Double.isNaN(oscillationRule)
          ? "the loss alternated up and down " + (int) flips.sum() + " times in " + WINDOW + " steps (rule: ≥ " + FLIPS
              + ") with no net progress (ratio " + fmt(ratio) + " > 0.99)"
          : "successive updates point in opposite directions (mean cosine " + fmt(cos) + " < " + fmt(oscillationRule) + ")");
      case CONVERGED -> new Diagnosis(v, null, Double.NaN, since, floorByGradient
          ? (maxGrad > 0 ? "the gradient norm fell to " + fmt(gradNorm / maxGrad) + " of its largest (rule: ≤ "
              + fmt(GRAD_FLOOR) + ")" : "the gradient norm is 0")
          : highest == 0 ? "the loss fell to 0"
          : highest < LOSS_FLOOR * firstLoss
          ? "the loss fell to " + fmt(highest / firstLoss) + " of its first (rule: < " + fmt(LOSS_FLOOR) + ")"
          : "the schedule annealed the lr to " + fmt(lr / maxLr) + " of its peak");
      case TOO_SLOW -> new Diagnosis(v, "raise the lr ×10 to " + fmt(to), to, since,
          "the loss improves " + fmt(100 * perStep) + "% per step" + (Double.isNaN(eff) ? ""
              : ", and each step delivers " + fmt(100 * eff) + "% of its first-order promise: steps are small against"
                  + " the curvature"));
      default -> new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, since, Double.isFinite(perStep)
          ? "the loss improves " + fmt(100 * perStep) + "% per step"
          : "the loss went from " + fmt(then) + " to " + fmt(now) + " over the last " + WINDOW + " steps");
    };
  }

  /** The raw loss {@code k} steps ago (0: this step), for k ≤ WINDOW. */
  private double rawAgo(int k) {
    return raw[(n - 1 - k) % (WINDOW + 1)];
  }

  /** lr/10 and lr·10 as a person writes them: 1.1/10 is 0.11, not 0.11000000000000001. */
  public static double nice(double v) {
    return Double.isFinite(v) && v != 0 ? new java.math.BigDecimal(v).round(new java.math.MathContext(12)).doubleValue() : v;
  }

  /** The last {@code size} values, their sum and mean kept as they come and go (NaNs are skipped). */
  private static final class Window {
    private final double[] values;
    private int next;
    private double sum;
    private int count;

    Window(int size) {
      values = new double[size];
      java.util.Arrays.fill(values, Double.NaN);
    }

    void add(double v) {
      double old = values[next];
      if (!Double.isNaN(old)) {
        sum -= old;
        count--;
      }
      values[next] = v;
      next = (next + 1) % values.length;
      if (!Double.isNaN(v)) {
        sum += v;
        count++;
      }
    }

    double sum() {
      return sum;
    }

    double mean() {
      return count == 0 ? Double.NaN : sum / count;
    }

    void clear() {
      java.util.Arrays.fill(values, Double.NaN);
      sum = 0;
      count = 0;
    }
  }

  /** Three significant digits, for people. */
  public static String fmt(double v) {
    if (!Double.isFinite(v)) return String.valueOf(v);
    java.math.BigDecimal b = new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros();
    double a = Math.abs(v);
    return a != 0 && (a >= 1e6 || a < 1e-4) ? b.toString() : b.toPlainString();
  }
}
