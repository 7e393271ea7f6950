package io.losswatch.core.diagnosis;

/**
 * Classifies a run step by step from its loss and, for runs trained in-process, its update geometry (the
 * cosine between successive updates, and how much of the first-order predicted decrease a step delivered).
 * Pure and allocation-free per step; one instance per run, fed from one thread.
 *
 * <p>The rules, over a window of {@link #WINDOW} steps of an exponentially smoothed loss (so a noisy
 * minibatch loss does not flap):
 * <ul>
 *   <li>non_finite: a NaN or infinite loss or gradient, at once;
 *   <li>diverging: the smoothed loss grew over ×4 in the window with most steps up, or sits over ×1000
 *       above its running minimum, or over ×10 and still rising ×1.5 in the window (a noisy minibatch loss
 *       blows up with half its steps down; it stays diverging there until it falls again) — at once, with the steps left before the loss overflows when it
 *       grows steadily;
 *   <li>oscillating: successive updates point in opposite directions on average (cosine &lt; −0.5), or the
 *       loss alternates up and down with no net progress;
 *   <li>converged: the gradient has all but vanished (under 1e-4 of its largest), or the lr was annealed
 *       under 1% of its peak and the loss stopped moving;
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
 */
public final class Diagnoser {
  public static final int WINDOW = 20;
  public static final int HOLD = 20;
  private static final double ALPHA = 2.0 / (WINDOW + 1);

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
  private Diagnosis current = Diagnosis.UNKNOWN;
  private Verdict candidate = Verdict.UNKNOWN;
  private long candidateSince;
  private int candidateCount;

  /** Forgets the past (after an lr change: a new regime deserves a fresh look); the verdict is unknown again. */
  public void reset() {
    current = Diagnosis.UNKNOWN;
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

  public Diagnosis current() {
    return current;
  }

  /**
   * Takes one step; returns true when the diagnosis changed. {@code cosine} and {@code efficiency} are NaN
   * for runs without update geometry.
   */
  public boolean observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    // a NaN gradient norm is not known (a script that does not send it), unless the run had given finite ones
    if (!Double.isFinite(loss) || Double.isInfinite(gradNorm) || (Double.isNaN(gradNorm) && maxGrad > 0)) {
      return set(new Diagnosis(Verdict.NON_FINITE, "cut the lr ÷10 to " + fmt(lr / 10) + " and start again",
          nice(lr / 10), step, (Double.isFinite(loss) ? "gradient norm " : "loss ") + (Double.isFinite(loss) ? gradNorm : loss)
              + " at step " + step));
    }
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
    if (Double.isFinite(gradNorm)) maxGrad = Math.max(maxGrad, gradNorm);
    if (Double.isFinite(lr)) maxLr = Math.max(maxLr, lr);
    if (n <= WINDOW) return false;
    Verdict v = classify(loss, lr, gradNorm);
    if (v == current.verdict()) {
      candidateCount = 0;
      // a schedule moves the lr every step: only a suggestion that moved by over 10% is news
      double suggested = suggestion(v, lr);
      if (Double.isNaN(suggested) != !current.hasAdvice()
          || (current.hasAdvice() && Math.abs(suggested / current.suggestedLr() - 1) > 0.1)) {
        return set(describe(v, current.sinceStep(), loss, lr, gradNorm));
      }
      return false;
    }
    if (v != candidate || candidateCount == 0) {
      candidate = v;
      candidateSince = step;
      candidateCount = 0;
    }
    candidateCount++;
    boolean urgent = v == Verdict.DIVERGING || current.verdict() == Verdict.UNKNOWN;
    if (!urgent && candidateCount < HOLD) return false;
    return set(describe(v, urgent ? step : candidateSince, loss, lr, gradNorm));
  }

  private boolean set(Diagnosis d) {
    boolean changed = !d.equals(current);
    current = d;
    candidateCount = 0;
    return changed;
  }

  // what the last classification measured, for describe()
  private double ratio;
  private double now;
  private double cos;
  private double eff;
  private double perStep;

  /** The verdict for this step, from numbers alone: it runs every step, so it builds no strings. */
  private Verdict classify(double loss, double lr, double gradNorm) {
    now = smooth[(n - 1) % (WINDOW + 1)];
    double then = smooth[n % (WINDOW + 1)];   // WINDOW steps ago
    ratio = now / then;
    cos = cosines.mean();
    eff = efficiencies.mean();
    perStep = 1 - Math.pow(ratio, 1.0 / WINDOW);   // relative improvement per step
    if ((ratio > 4 && ups.sum() >= 0.7 * WINDOW) || (minSmooth > 0 && now > 1000 * minSmooth)
        || (minSmooth > 0 && now > 10 * minSmooth && ratio > (current.verdict() == Verdict.DIVERGING ? 0.9 : 1.5))) {
      return Verdict.DIVERGING;
    }
    // band hysteresis: a verdict is entered past one threshold and left past a looser one
    boolean wasOscillating = current.verdict() == Verdict.OSCILLATING;
    if (cos < (wasOscillating ? -0.3 : -0.5) || (flips.sum() >= 0.8 * (WINDOW - 1) && ratio > 0.99)) {
      return Verdict.OSCILLATING;
    }
    if (gradNorm <= 1e-4 * maxGrad || (lr < 0.01 * maxLr && Math.abs(perStep) < 1e-4)) return Verdict.CONVERGED;
    boolean linear = Double.isNaN(eff) ? gradNorm > 0.01 * maxGrad : eff > 0.9;
    boolean rising = lr > 1.05 * lrs[n % (WINDOW + 1)];   // a warmup is raising the lr already
    double slow = current.verdict() == Verdict.TOO_SLOW ? 0.02 : 0.01;
    if (perStep < slow && perStep > -0.001 && linear && !rising) return Verdict.TOO_SLOW;
    return Verdict.CONVERGING;
  }

  private static double suggestion(Verdict v, double lr) {
    return switch (v) {
      case DIVERGING, OSCILLATING, NON_FINITE -> lr / 10;
      case TOO_SLOW -> lr * 10;
      default -> Double.NaN;
    };
  }

  /** The verdict with its advice and evidence, in words: built only when the diagnosis changes. */
  private Diagnosis describe(Verdict v, long since, double loss, double lr, double gradNorm) {
    double to = nice(suggestion(v, lr));
    return switch (v) {
      case DIVERGING -> {
        double rawRatio = rawAgo(0) / rawAgo(WINDOW);   // the smoothed loss lags: the raw one tells the pace
        double growth = rawRatio > 1 ? rawRatio : ratio;
        String grew = "the loss grew ×" + fmt(ratio) + " over the last " + WINDOW + " steps (" + (int) ups.sum()
            + " of them up), now " + fmt(now / minSmooth) + "× its minimum";
        if (growth < 1.5 || ups.sum() < 0.7 * WINDOW) {   // levelled off, or too noisy to extrapolate
          yield new Diagnosis(v, "cut the lr ÷10 to " + fmt(to), to, since, grew);
        }
        long left = (long) Math.ceil(Math.log(Double.MAX_VALUE / Math.max(loss, Double.MIN_NORMAL))
            / (Math.log(growth) / WINDOW));
        yield new Diagnosis(v, "cut the lr ÷10 to " + fmt(to) + "; the loss overflows in about " + left + " steps", to,
            since, grew + "; it overflows in about " + left + " steps");
      }
      case OSCILLATING -> new Diagnosis(v, "cut the lr ÷10 to " + fmt(to), to, since, cos < -0.3
          ? "successive updates point in opposite directions (mean cosine " + fmt(cos) + ")"
          : "the loss alternated up and down " + (int) flips.sum() + " times in " + WINDOW + " steps with no net progress");
      case CONVERGED -> new Diagnosis(v, null, Double.NaN, since, gradNorm <= 1e-4 * maxGrad
          ? "the gradient norm fell to " + fmt(gradNorm / maxGrad) + " of its largest"
          : "the schedule annealed the lr to " + fmt(lr / maxLr) + " of its peak");
      case TOO_SLOW -> new Diagnosis(v, "raise the lr ×10 to " + fmt(to), to, since,
          "the loss improves " + fmt(100 * perStep) + "% per step" + (Double.isNaN(eff) ? ""
              : ", and each step delivers " + fmt(100 * eff) + "% of its first-order promise: steps are small against"
                  + " the curvature"));
      default -> new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, since,
          "the loss improves " + fmt(100 * perStep) + "% per step");
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
