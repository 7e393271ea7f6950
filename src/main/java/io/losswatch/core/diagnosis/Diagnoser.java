package io.losswatch.core.diagnosis;

/**
 * Classifies a run step by step from its loss and, for runs trained in-process, its update geometry (the
 * cosine between successive updates, and how much of the first-order predicted decrease a step delivered).
 * Pure, and allocation-free per step but for its text (written when the verdict changes, or once a window);
 * one instance per run, fed from one thread.
 *
 * <p>The rules, over a window of {@link #WINDOW} steps of an exponentially smoothed loss (so a noisy
 * minibatch loss does not flap), and over the raw losses where a smoothed one would mislead:
 * <ul>
 *   <li>non_finite: a NaN or infinite loss or gradient, at once;
 *   <li>diverging: the smoothed loss grew over ×4 in the window with most steps up, or sits over ×1000
 *       above its running minimum, or over ×10 and still rising ×1.5 in the window (a noisy minibatch loss
 *       blows up with half its steps down; it stays diverging there until it falls again) — at once, with the steps
 *       left before the loss overflows when it grows steadily and such estimates have been right on the run so far
 *       (never for a script's run, whose float32 loss overflows long before a double would);
 *       and after a <em>blow-up</em> (a raw loss over ×{@link #BLOW_UP} the trivial level: ln(num_classes) for a
 *       classifier that says how many it has, else its first loss; for a script, ×{@link #OVERSHOOT} in its first
 *       steps: an {@link #OVERSHOOT}) until the loss learns again (its raw median under {@link #TRIVIAL} of the
 *       trivial level, or back near where it was before);
 *   <li>dead: after a blow-up the raw loss sits, for {@link #DEAD_WINDOW} steps, at or above the trivial level with no
 *       net progress and its gradient norm collapsed (at most {@link #COLLAPSE} of the blow-up's; when known) — or,
 *       without one, flat with its gradient faded (at most {@link #FADED} of its largest): back {@link #RELAPSE} of
 *       the way from its best loss to the trivial level after having learnt (ReLUs die one by one at too large an
 *       lr), or, from the start, at the trivial level although its steps (Σ lr × grad norm²) promised to move it by
 *       the whole loss. No lr change revives it: the advice is to rewind, or to start again lower;
 *   <li>converged, once the loss is at its floor: the gradient has all but vanished (at most 1e-4 of its
 *       largest), or the loss fell under 1e-12 of its first (or to 0) for a window — even while the updates still
 *       flip direction (x² at lr 0.9 shrinks as fast as at lr 0.1);
 *   <li>oscillating: successive updates point in opposite directions on average (cosine &lt; −0.5), or the
 *       loss alternates up and down with no net progress — regularly (lag-1 autocorrelation ≤ {@link #REGULAR}) or
 *       while it rises: a noisy minibatch loss flips sign at random, and that is not overshooting;
 *   <li>converged too when the lr was annealed under 1% of its peak and the loss stopped moving;
 *   <li>too_slow: under 1% relative improvement per step while each step delivers what its first-order
 *       prediction promised (efficiency &gt; 0.9: steps are small against the curvature, so a larger one
 *       would give proportionally more), or — without geometry — the loss creeps while the gradient is
 *       not small (and, for a script's run, the evidence leaves at least a decade of lr to climb: {@link #decades});
 *   <li>converging otherwise.
 * </ul>
 * Other verdicts must hold for {@link #HOLD} steps in a row before they replace the current one, and
 * too_slow and oscillating are left past looser thresholds than they are entered (hysteresis). While a
 * schedule raises the lr (a warmup), the run is not called too slow. A warmup's rising lr and a one-cycle peak bend
 * the loss by far less than ×4, so they are not mistaken for divergence.
 *
 * <p>Advice never names an lr that is not a positive finite number, nor one the run failed at ({@link FailedLrs}: the
 * lrs it diverged, went non-finite or died at are remembered across lr changes and rewinds), nor, for an optimizer
 * that sets its own step ({@link Setup#selfTuning}), any lr at all. A raise waits until the last one held
 * ({@link Ladder}).
 *
 * <p>While a verdict holds, its advice and evidence are written afresh every {@link #WINDOW} steps, so the
 * numbers they quote (the loss, the steps left before it overflows, …) follow the run: {@link #observe}
 * tells a mere refresh ({@link Change#REFRESHED}) from news ({@link Change#CHANGED}: a new episode, {@link #episode()}).
 * An episode is a stretch of one verdict; an lr change ({@link #reset}) does not end it — the same verdict seen again
 * afterwards is the same episode, so applying advice raises no second alert — a rewind does. Once the run ended
 * ({@link #end}), the verdict stays, without advice.
 *
 * <p>Where the run's curvature was measured ({@link #curvature}), the evidence says what the stability ratio (lr ×
 * sharpness ÷ the optimizer's limit) adds: an oscillating or diverging run over 1 overshoots along its sharpest
 * direction; a too_slow run under {@link #ROOMY} has decades of lr before the limit (never up to an lr it failed at).
 * Evidence only: the verdict and its advice are the same with or without it.
 */
public final class Diagnoser {
  public static final int WINDOW = 20;
  public static final int HOLD = 20;
  /** Steps of raw losses a dead verdict looks at (and since a blow-up, before one). */
  public static final int DEAD_WINDOW = 100;
  private static final double ALPHA = 2.0 / (WINDOW + 1);
  /** An "overflows in about N steps" past this is no estimate worth printing. */
  static final double MAX_OVERFLOW_STEPS = 1e6;
  /** The floor: the gradient norm at most this fraction of its largest, or … */
  static final double GRAD_FLOOR = 1e-4;
  /** … the smoothed loss under this fraction of its first. */
  static final double LOSS_FLOOR = 1e-12;
  /** A raw loss this many times the trivial level is a blow-up. */
  static final double BLOW_UP = 10;
  /**
   * A script's first steps (since it began, was rewound or had its lr changed) overshoot when a raw loss reaches this
   * many times both its trivial level and its own first — for a classifier (whose every batch scores about a guess's
   * loss at init, so no batch explains it), or for any run that failed at another lr before (a retry that leaps so
   * is the same failure, milder). Adam at lr 0.1 on the digits MLP: ×2.05–8 at step 2 over 30 batch orders, ending
   * at val_acc 0.65–0.94 where lr 0.01 ends at 0.98; healthy lrs: at most ×1.63.
   */
  static final double OVERSHOOT = 2;
  /** A script's smoothed loss under this fraction of its trivial level is too small to be called diverging. */
  static final double QUIET = 0.1;
  /** A loss at or above this fraction of the trivial level has learnt nothing a guess does not know. */
  static final double TRIVIAL = 0.85;
  /** A dead run's gradient norm: at most this fraction of its largest at the blow-up … */
  static final double COLLAPSE = 1e-2;
  /** … or, without a blow-up, of its largest since the run began (or was rewound). */
  static final double FADED = 0.1;
  /** No net progress: the newer half of the dead window's raw losses is at most this much lower (median). */
  static final double FLAT = 0.02;
  /** Dead after learning: back this fraction of the way from its best loss to the trivial level. */
  static final double RELAPSE = 1.0 / 3;
  /** Dead from the start: its steps promised (Σ lr × grad norm²) at least this many times its loss. */
  static final double PROMISE = 1;
  /** A step that takes this fraction of the loss is as large as advice to raise the lr aims for. */
  static final double FAST = 0.01;
  /** A too_slow run's stability under this says how many decades of lr it has before the limit. */
  static final double ROOMY = 0.1;
  /** The most decades of lr the evidence is ever said to support. */
  static final int MAX_DECADES = 4;
  /** An alternation this anti-correlated (lag 1) is regular, not noise. */
  static final double REGULAR = -0.8;

  /**
   * What kind of run this is. {@code numClasses}: a classifier's class count from its config (0: unknown), whose
   * trivial loss is ln(numClasses); {@code script}: its steps come from a script (no overflow estimates: its float32
   * loss overflows at 3.4e38, and a script's loss seldom grows steadily); {@code selfTuning}: its optimizer sets its
   * own step (Prodigy, D-Adaptation, schedule-free), so advice names what to change instead of an lr.
   */
  public record Setup(int numClasses, boolean script, boolean selfTuning) {
    public static final Setup BUILT_IN = new Setup(0, false, false);

    public static Setup script(int numClasses, boolean selfTuning) {
      return new Setup(numClasses, true, selfTuning);
    }
  }

  /** What a step did to the diagnosis. */
  public enum Change {
    /** Nothing to tell. */
    NONE,
    /** The same episode, its text written afresh (the numbers it quotes moved, or its advice did). */
    REFRESHED,
    /** A new episode (another verdict than the last one, or the first after a rewind): news, for alerts. */
    CHANGED
  }

  /** A loss under this fraction of the run's largest is too small to be called diverging. */
  static final double BLOW_UP_FLOOR = 1e-3;
  /** The advice for an optimizer that sets its own step ({@link Setup#selfTuning}), by each one's own options. */
  public static final String SELF_SMALLER = "its optimizer sets its own step, so no lr factor applies: make the step"
      + " smaller (Prodigy: d_coef under 1; D-Adaptation: lr under 1; either: growth_rate such as 1.02;"
      + " schedule-free: a lower lr or a longer warmup), or let a guard rewind it";
  public static final String SELF_LARGER = "its optimizer sets its own step, so no lr factor applies: make the step"
      + " larger (Prodigy: d_coef over 1; D-Adaptation: lr over 1; schedule-free: a higher lr)";

  private final Setup setup;
  private final FailedLrs failed = new FailedLrs();
  private final Ladder ladder = new Ladder();
  private final double[] smooth = new double[WINDOW + 1];
  private final double[] raw = new double[WINDOW + 1];
  private final double[] lrs = new double[WINDOW + 1];
  // the window's statistics are kept as running sums: this runs every step of every run
  private final Window cosines = new Window(WINDOW);
  private final Window efficiencies = new Window(WINDOW);
  private final Window ups = new Window(WINDOW);        // 1 when the loss went up at that step
  private final Window flips = new Window(WINDOW - 1);  // 1 when it turned around there
  private final Window promised = new Window(WINDOW);   // lr × grad norm²: the decrease a step promised
  // the last DEAD_WINDOW raw losses and gradient norms since the last rewind (lr changes do not clear them)
  private final double[] longLoss = new double[DEAD_WINDOW];
  private final double[] longGrad = new double[DEAD_WINDOW];
  private final Window longPromised = new Window(DEAD_WINDOW);
  private final double[] scratch = new double[DEAD_WINDOW];
  private int longCount;
  private double lastDelta;
  private int n;
  private double ewma = Double.NaN;
  private double minSmooth = Double.POSITIVE_INFINITY;
  private double maxGrad;
  private double maxLr;
  private double firstLoss;
  /** The run's largest smoothed loss, kept across lr changes: the scale a blow-up is measured against. */
  private double peak;
  /** The loss of knowing nothing: ln(num_classes), else the run's first loss. */
  private double trivial = Double.NaN;
  /** The smallest smoothed loss since the last rewind, and its step. */
  private double runMin = Double.POSITIVE_INFINITY;
  private long runMinStep;
  private long lrFrom = -1;   // the first step since the last lr change or rewind (-1: none yet)
  private double runMaxGrad;
  private boolean blownUp;
  private long blowUpStep;
  private double blowUpLr;
  private double blowUpLoss;
  private double blowUpGrad;
  private double preMin;   // the smallest smoothed loss before the blow-up
  private int sinceBlowUp;
  private double rangeLr = Double.NaN;
  private int lastDecades = -1;
  /** The latest stability measured at the current lr (lr × sharpness ÷ the optimizer's limit); NaN: none. */
  private double stability = Double.NaN;
  private Diagnosis current = Diagnosis.UNKNOWN;
  private long describedAt;
  private double describedLr = Double.NaN;   // the suggestion last written
  private boolean ended;
  private Verdict candidate = Verdict.UNKNOWN;
  private long candidateSince;
  private int candidateCount;
  private long episode;
  private Verdict episodeVerdict = Verdict.UNKNOWN;
  private long episodeSince;
  // an overflow estimate is shown only once the previous one held: log loss and log growth per step it predicted from
  private long predictedAt = -1;
  private double predictedLog;
  private double predictedRate;

  /** A built-in run's diagnoser. */
  public Diagnoser() {
    this(Setup.BUILT_IN);
  }

  public Diagnoser(Setup setup) {
    this.setup = setup;
  }

  public Setup setup() {
    return setup;
  }

  /**
   * Forgets the window (after an lr change: a new regime deserves a fresh look); the verdict is unknown again, but
   * the episode goes on, and what the run as a whole showed (its trivial level, a blow-up, the lrs it failed at, the
   * raw losses a dead verdict looks at) stays. An ended run's diagnosis stays as it ended: {@link #startOver()}
   * begins a new cycle.
   */
  public void reset() {
    if (ended) return;
    current = Diagnosis.UNKNOWN;
    describedLr = Double.NaN;
    lrFrom = -1;
    n = 0;
    cosines.clear();
    efficiencies.clear();
    ups.clear();
    flips.clear();
    promised.clear();
    ewma = Double.NaN;
    minSmooth = Double.POSITIVE_INFINITY;
    maxGrad = 0;
    maxLr = 0;
    candidateCount = 0;
    predictedAt = -1;
    stability = Double.NaN;   // measured at the old lr
  }

  /**
   * A curvature measurement: {@code stability} = lr × sharpness ÷ the optimizer's stability limit, at the current lr
   * (ignored unless finite and positive: not measured, or a limit unknown). The latest one is quoted in the evidence the
   * next time it is written; an lr change forgets it.
   */
  public void curvature(double stability) {
    if (stability > 0 && stability < Double.POSITIVE_INFINITY && !ended) this.stability = stability;
  }

  /** The latest stability measured at the current lr (NaN: none). */
  public double stability() {
    return stability;
  }

  /**
   * The lr changed from {@code from} to {@code to} before {@code step} ({@code proven}: a look-ahead proved it):
   * {@link #reset()}, and a raise is a rung of the {@link Ladder}.
   */
  public void lrChanged(long step, double from, double to, boolean proven) {
    if (ended) return;
    reset();
    if (FailedLrs.usable(from) && FailedLrs.usable(to) && to > 1.5 * from) ladder.raised(step, from, to, proven);
  }

  /**
   * The run went back to an earlier state (a guard's rewind): {@link #reset()}, and what the undone steps showed is
   * forgotten (a blow-up, the raw losses, the run's largest loss) — but not the lrs it failed at. A new episode
   * begins: the verdict after a rewind is news.
   */
  public void rewound() {
    if (ended) return;
    reset();
    blownUp = false;
    deadBefore = false;
    longCount = 0;
    longPromised.clear();
    peak = 0;
    runMin = Double.POSITIVE_INFINITY;
    runMaxGrad = 0;
    episodeVerdict = Verdict.UNKNOWN;
  }

  /** A new cycle of a run that ended (a demo run starting over): everything forgotten. */
  public void startOver() {
    ended = false;
    rewound();
    trivial = Double.NaN;
    failed.clear();
    ladder.clear();
    rangeLr = Double.NaN;
  }

  /**
   * A range test of the same spec suggested {@code lr}: how far a creeping run may climb is read from it rather than
   * from the run's own slope (NaN forgets it).
   */
  public void rangeTest(double lr) {
    rangeLr = FailedLrs.usable(lr) ? lr : Double.NaN;
  }

  /**
   * The run ended at {@code step} ({@code how}: its end state, "finished", "stopped", …): the verdict stays, its advice
   * says the run ended, and no step changes it any more. Its retry lr (for "run again") is the advice's, else, for a
   * run that failed somewhere, a decade under the lowest lr it failed at.
   */
  public void end(long step, String how) {
    if (ended) return;
    double retry = current.hasAdvice() ? current.suggestedLr() : current.retryLr();
    if (Double.isNaN(retry) && !failed.isEmpty() && !setup.selfTuning()) retry = nice(failed.cut(failed.ceiling()));
    beforeEnd = current;
    endedHow = how;
    current = current.ended(step, how, retry);
    ended = true;
  }

  /** Steps the run took before it heard of its end were kept: the end's text names the last of them. */
  public void endedAt(long step) {
    if (ended && beforeEnd != null) current = beforeEnd.ended(step, endedHow, current.retryLr());
  }

  private Diagnosis beforeEnd;
  private String endedHow;

  public boolean ended() {
    return ended;
  }

  public Diagnosis current() {
    return current;
  }

  /** The number of the current episode (0 before the first verdict): a new one is news, for one alert each. */
  public long episode() {
    return episode;
  }

  /** The step the current episode began at. */
  public long episodeSince() {
    return episodeSince;
  }

  /** The lrs this run failed at. */
  public FailedLrs failed() {
    return failed;
  }

  /** The raises this run climbed. */
  public Ladder ladder() {
    return ladder;
  }

  /** Marks the raise to {@code lr} just applied as proven by a look-ahead. */
  public void proven(double lr) {
    ladder.proven(lr);
  }

  /**
   * How many decades of lr the evidence supported when a too_slow diagnosis was last written (−1: none, or no
   * evidence): from a range test, else from the run's own slope (see the class comment).
   */
  public int decadesSupported() {
    return current.verdict() == Verdict.TOO_SLOW ? lastDecades : -1;
  }

  /** Whether the loss blew up and has not learnt since; then {@link #blowUpStep()} says where. */
  public boolean blownUp() {
    return blownUp;
  }

  /** The step of the last blow-up (meaningful while {@link #blownUp()}). */
  public long blowUpStep() {
    return blowUpStep;
  }

  /**
   * The step the run went wrong at, that a rewind must go back before (−1: none known): its blow-up while it has not
   * learnt since; for a run dead without one that had learnt, the step its lr took effect at (its first, or its last
   * lr change or rewind: a network that dies slowly at an lr loses units all along, so even its best step may be
   * crippled); for one that never learnt, its first step.
   */
  public long wentWrongAt() {
    return blownUp || current.verdict() == Verdict.DEAD ? deadFrom() : -1;
  }

  private long deadFrom() {
    return blownUp ? blowUpStep : learntBefore() ? lrFrom : 1;
  }

  /** Whether the run had learnt more than a guess knows before it died. */
  private boolean learntBefore() {
    return runMin < TRIVIAL * trivial;
  }

  /** The loss of knowing nothing (NaN before the first step). */
  public double trivialLoss() {
    return trivial;
  }

  /**
   * Takes one step and tells what it did to the diagnosis. {@code cosine} and {@code efficiency} are NaN
   * for runs without update geometry; {@code gradNorm} is NaN when not known.
   */
  public Change observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    if (ended) return Change.NONE;
    // a NaN gradient norm is not known (a script that does not send it), unless the run had given finite ones
    if (!Double.isFinite(loss) || Double.isInfinite(gradNorm) || (Double.isNaN(gradNorm) && maxGrad > 0)) {
      boolean already = current.verdict() == Verdict.NON_FINITE;
      if (already && step - describedAt < WINDOW) return Change.NONE;
      failed.add(step, lr, "went non-finite");
      ladder.failed();
      return set(step, nonFinite(step, loss, lr, gradNorm, already ? current.sinceStep() : step));
    }
    if (Double.isNaN(trivial)) trivial = setup.numClasses() >= 2 ? Math.log(setup.numClasses()) : loss;
    if (lrFrom < 0) lrFrom = step;
    if (Double.isNaN(ewma)) firstLoss = loss;
    double minBefore = runMin;
    ewma = Double.isNaN(ewma) ? loss : ewma + ALPHA * (loss - ewma);
    int slot = n % (WINDOW + 1);
    smooth[slot] = ewma;
    raw[slot] = loss;
    lrs[slot] = lr;
    cosines.add(cosine);
    efficiencies.add(Math.max(-5, Math.min(5, efficiency)));
    double promise = FailedLrs.usable(lr) && Double.isFinite(gradNorm) ? lr * gradNorm * gradNorm : Double.NaN;
    promised.add(promise);
    longPromised.add(promise);
    longLoss[longCount % DEAD_WINDOW] = loss;
    longGrad[longCount % DEAD_WINDOW] = gradNorm;
    longCount++;
    if (n > 0) {
      double delta = loss - raw[(n - 1) % (WINDOW + 1)];
      ups.add(delta > 0 ? 1 : 0);
      if (n > 1) flips.add(delta * lastDelta < 0 ? 1 : 0);
      lastDelta = delta;
    }
    n++;
    minSmooth = Math.min(minSmooth, ewma);
    if (ewma < runMin) {
      runMin = ewma;
      runMinStep = step;
    }
    if (ewma > peak) peak = ewma;
    if (Double.isFinite(gradNorm)) {
      maxGrad = Math.max(maxGrad, gradNorm);
      runMaxGrad = Math.max(runMaxGrad, gradNorm);
    }
    if (Double.isFinite(lr)) maxLr = Math.max(maxLr, lr);
    if (blownUp) {
      sinceBlowUp++;
      blowUpLoss = Math.max(blowUpLoss, loss);
      if (Double.isFinite(gradNorm)) blowUpGrad = Math.max(blowUpGrad, gradNorm);
    } else if (trivial > 0 && (loss >= BLOW_UP * trivial || overshoots(loss))) {
      blownUp = true;
      blowUpStep = step;
      blowUpLr = lr;
      blowUpLoss = loss;
      blowUpGrad = Double.isFinite(gradNorm) ? gradNorm : 0;
      preMin = minBefore;
      sinceBlowUp = 0;
    }
    if (current.verdict() != Verdict.DIVERGING && current.verdict() != Verdict.DEAD) ladder.held(step);
    if (n <= WINDOW) return Change.NONE;
    Verdict v = classify(loss, lr, gradNorm);
    if (v == current.verdict()) {
      candidateCount = 0;
      // a schedule moves the lr every step: the text follows it once a window, unless the suggestion moved far
      if (step - describedAt >= WINDOW || moved(suggestion(v, lr))) {
        remember(v, step, lr);
        return set(step, describe(v, current.sinceStep(), step, loss, lr, gradNorm));
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
    remember(v, step, lr);
    return set(step, describe(v, urgent ? step : candidateSince, step, loss, lr, gradNorm));
  }

  /** A failing verdict's lr goes to the memory: the lr it blew up at, or the one it diverged or died at. */
  private void remember(Verdict v, long step, double lr) {
    if (v == Verdict.DIVERGING) {
      if (blownUp) failed.add(blowUpStep, blowUpLr, "blew up");
      else failed.add(step, lr, "diverged");
    } else if (v == Verdict.DEAD) {
      failed.add(blownUp ? blowUpStep : step, blownUp ? blowUpLr : lr, "died");
    } else {
      return;
    }
    ladder.failed();
  }

  /** Whether a suggestion (NaN: none) differs from the one last written: there or not, or over 10% off. */
  private boolean moved(double suggested) {
    return Double.isNaN(suggested) != Double.isNaN(describedLr)
        || (!Double.isNaN(suggested) && Math.abs(suggested / describedLr - 1) > 0.1);
  }

  private Change set(long step, Diagnosis d) {
    Diagnosis was = current;
    current = d;
    candidateCount = 0;
    describedAt = step;
    describedLr = d.suggestedLr();
    if (d.verdict() != Verdict.UNKNOWN && d.verdict() != episodeVerdict) {
      episode++;
      episodeVerdict = d.verdict();
      episodeSince = d.sinceStep();
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
  private double lag1;              // the flips rule's lag-1 autocorrelation
  private boolean floorByGradient;
  private boolean byBlowUp;         // diverging because of a blow-up the loss has not come back from

  /** The verdict for this step, from numbers alone: it runs every step, so it builds no strings. */
  private Verdict classify(double loss, double lr, double gradNorm) {
    now = smooth[(n - 1) % (WINDOW + 1)];
    then = smooth[n % (WINDOW + 1)];   // WINDOW steps ago
    ratio = now / then;
    cos = cosines.mean();
    eff = efficiencies.mean();
    perStep = 1 - Math.pow(ratio, 1.0 / WINDOW);   // relative improvement per step
    byBlowUp = false;
    // it learns again: the blow-up is behind it — once told (an overshoot in the first steps is news though they mend it)
    boolean told = current.verdict() != Verdict.UNKNOWN;
    if (blownUp && told && sinceBlowUp % CHECK == 0 && recovered()) blownUp = false;
    // near its floor a loss may bounce by any factor and still be nothing (Adam on rosenbrock leaps from 1e-30 to
    // 3e-4 and back, every few hundred steps): a blow-up must climb back to a thousandth of the run's largest loss
    // — and a script's under a tenth of its trivial level is still far from where it began: an overfit net (Adam at
    // lr 0.01 on the digits MLP, down to 0.003) leaps ×10 on its bad batches and is none the worse (val_acc 0.987)
    boolean significant = now > BLOW_UP_FLOOR * peak && !(setup.script() && now < QUIET * trivial);
    if (significant && ((ratio > 4 && ups.sum() >= 0.7 * WINDOW) || (minSmooth > 0 && now > 1000 * minSmooth)
        || (minSmooth > 0 && now > 10 * minSmooth && ratio > (current.verdict() == Verdict.DIVERGING ? 0.9 : 1.5)))) {
      // a smoothed loss still carrying a spike the raw loss has long left: told as the blow-up it is
      byBlowUp = blownUp && loss < blowUpLoss / BLOW_UP;
      return Verdict.DIVERGING;
    }
    if (dead()) return Verdict.DEAD;
    if (blownUp) {
      byBlowUp = true;
      return Verdict.DIVERGING;
    }
    // at its floor, a loss that still flips (x² at lr 0.9) has converged all the same
    floorByGradient = gradNorm <= GRAD_FLOOR * maxGrad;
    if (floorByGradient || lossAtFloor()) return Verdict.CONVERGED;
    // band hysteresis: a verdict is entered past one threshold and left past a looser one
    double cosRule = current.verdict() == Verdict.OSCILLATING ? -0.3 : -0.5;
    if (cos < cosRule || (flips.sum() >= FLIPS && ratio > 0.99 && (ratio > 1.05 || regular()))) {
      oscillationRule = cos < cosRule ? cosRule : Double.NaN;
      return Verdict.OSCILLATING;
    }
    if (lr < 0.01 * maxLr && Math.abs(perStep) < 1e-4) return Verdict.CONVERGED;
    boolean linear = Double.isNaN(eff) ? gradNorm > 0.01 * maxGrad : eff > 0.9;
    boolean rising = lr > 1.05 * lrs[n % (WINDOW + 1)];   // a warmup is raising the lr already
    double slow = current.verdict() == Verdict.TOO_SLOW ? 0.02 : 0.01;
    // a script's creep (no geometry, a noisy loss) is too slow only if the evidence leaves a decade to climb; a
    // built-in run replayed from its history after a restart (no geometry either) keeps its live rule
    if (perStep < slow && perStep > -0.001 && linear && !rising
        && (!setup.script() || !Double.isNaN(eff) || decadesNow(lr) != 0)) {
      return Verdict.TOO_SLOW;
    }
    return Verdict.CONVERGING;
  }

  /**
   * Whether the loss learnt again since its blow-up: the median of its raw losses since (up to a window, at least
   * half of one) under {@link #TRIVIAL} of the trivial level, or, for a run that had learnt before, back under 1.5×
   * where it was.
   */
  private boolean recovered() {
    if (sinceBlowUp < WINDOW / 2) return false;
    int k = (int) Math.min(Math.min(sinceBlowUp, WINDOW), n);
    if (k < WINDOW / 2) return false;
    double med = medianOfLast(raw, WINDOW + 1, n, k);
    return med < TRIVIAL * trivial || (preMin < TRIVIAL * trivial && med < 1.5 * preMin);
  }

  /** The dead rules (see the class comment); once dead, a run stays so until it learns. */
  private boolean dead() {
    if (!(trivial > 0)) return false;
    if (longCount % CHECK != 0) return deadBefore;   // medians cost: reckoned every few steps
    deadBefore = reckonDead();
    return deadBefore;
  }

  private boolean reckonDead() {
    if (current.verdict() == Verdict.DEAD) return blownUp || medianOfLast(raw, WINDOW + 1, n, Math.min(n, WINDOW)) >= alive();
    if (longCount < DEAD_WINDOW) return false;
    if (blownUp) {
      if (sinceBlowUp < DEAD_WINDOW || !flat()) return false;
      double g = longGradMedian();
      return Double.isNaN(g) || blowUpGrad == 0 || g <= COLLAPSE * blowUpGrad;
    }
    // without one, flat with its gradient faded, and either back most of the way to where it began, or at the
    // trivial level, its steps having promised to move it by all of it (the cheap tests first: every run gets here)
    boolean relapse = learntBefore();
    if (relapse ? now < relapsed() : now < TRIVIAL * trivial || now > (2 - TRIVIAL) * trivial
        || longPromised.count() < DEAD_WINDOW || longPromised.sum() < PROMISE * TRIVIAL * trivial) {
      return false;
    }
    if (!(longGradMedian() <= FADED * runMaxGrad) || !flat()) return false;
    double level = medianOfLast(longLoss, DEAD_WINDOW, longCount, DEAD_WINDOW);
    return relapse ? level >= relapsed()
        : level >= TRIVIAL * trivial && level <= (2 - TRIVIAL) * trivial && longPromised.sum() >= PROMISE * level;
  }

  /** Whether a script's raw loss in its first steps is an {@link #OVERSHOOT}. */
  private boolean overshoots(double loss) {
    return setup.script() && n <= WINDOW && (setup.numClasses() >= 2 || !failed.isEmpty())
        && loss >= OVERSHOOT * Math.max(trivial, firstLoss);
  }

  /** A run that had learnt and sits at or above this lost most of it ({@link #RELAPSE}). */
  private double relapsed() {
    return runMin + RELAPSE * (trivial - runMin);
  }

  /** A dead run learns again once its raw loss is back under this (one that had learnt: half way to its best). */
  private double alive() {
    return learntBefore() ? Math.min(runMin + RELAPSE / 2 * (trivial - runMin), TRIVIAL * trivial) : TRIVIAL * trivial;
  }

  /** No net progress over the dead window: the newer half's median raw loss is at most {@link #FLAT} lower. */
  private boolean flat() {
    int half = DEAD_WINDOW / 2;
    double older = medianOfLast(longLoss, DEAD_WINDOW, longCount - half, half);
    double newer = medianOfLast(longLoss, DEAD_WINDOW, longCount, half);
    return newer >= older * (1 - FLAT);
  }

  private double longGradMedian() {
    return medianOfLast(longGrad, DEAD_WINDOW, longCount, DEAD_WINDOW);
  }

  /**
   * The median of the last {@code k} values of a ring of {@code size} holding {@code count} in all (the newest at
   * {@code (count − 1) % size}), NaNs left out (NaN if all are).
   */
  private double medianOfLast(double[] ring, int size, int count, int k) {
    int m = 0;
    for (int i = 1; i <= k; i++) {
      double v = ring[Math.floorMod(count - i, size)];
      if (!Double.isNaN(v)) scratch[m++] = v;
    }
    return median(scratch, m);
  }

  /**
   * The median of {@code a[0..m)} (NaN if m is 0), reordering it: a selection, not a sort — this runs every step of a
   * run near its trivial level, and a sort of a hundred doubles costs tens of microseconds.
   */
  static double median(double[] a, int m) {
    if (m == 0) return Double.NaN;
    double upper = select(a, m, m / 2);
    if (m % 2 == 1) return upper;
    double lower = a[0];
    for (int i = 1; i < m / 2; i++) lower = Math.max(lower, a[i]);   // the largest of the lower half
    return 0.5 * (lower + upper);
  }

  /** The k-th smallest of {@code a[0..m)}, leaving the smaller ones before it and the larger after (Hoare's select). */
  private static double select(double[] a, int m, int k) {
    int lo = 0;
    int hi = m - 1;
    while (lo < hi) {
      double pivot = a[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) i++;
        while (a[j] > pivot) j--;
        if (i <= j) {
          double t = a[i];
          a[i++] = a[j];
          a[j--] = t;
        }
      }
      if (k <= j) hi = j;
      else if (k >= i) lo = i;
      else return a[k];
    }
    return a[k];
  }

  /** Whether the window's raw losses alternate regularly (lag-1 autocorrelation ≤ {@link #REGULAR}), unlike noise. */
  private boolean regular() {
    double mean = 0;
    for (double v : raw) mean += v;
    mean /= raw.length;
    double num = 0;
    double den = 0;
    for (int k = 0; k <= WINDOW; k++) {
      double d = raw[(n + k) % (WINDOW + 1)] - mean;   // oldest first
      den += d * d;
      if (k > 0) num += d * (raw[(n + k - 1) % (WINDOW + 1)] - mean);
    }
    lag1 = den > 0 ? num / den : 0;
    return lag1 <= REGULAR;
  }

  /** {@link #decades} as last reckoned: afresh every {@link #CHECK} steps, and at a new lr. */
  private int decadesNow(double lr) {
    if (n % CHECK == 0 || n <= WINDOW + 1 || lr != lrs[Math.floorMod(n - 2, WINDOW + 1)]) decadesBefore = decades(lr);
    return decadesBefore;
  }

  // what decades() measured, for the evidence
  private double promisePerStep;
  private double slopePerStep;
  private boolean fromRangeTest;

  /**
   * How many decades of lr the evidence supports above {@code lr}, 0 to {@link #MAX_DECADES} (−1: no evidence).
   * From a range test of the same spec when one was given; else from the run's own slope: in the linear regime a
   * step's decrease grows with the lr, so the lr may grow until a step takes {@link #FAST} of the loss. A step's
   * decrease is the larger of what it promised (lr × grad norm², a lower bound for adaptive optimizers) and what the
   * raw loss measurably did (the median of the newer half of the window's raw losses against the older's, when the
   * difference stands out of the noise).
   */
  private int decades(double lr) {
    fromRangeTest = false;
    promisePerStep = promised.mean();
    slopePerStep = Double.NaN;
    if (!FailedLrs.usable(lr)) return -1;
    if (!Double.isNaN(rangeLr)) {
      fromRangeTest = true;
      return (int) Math.max(0, Math.min(MAX_DECADES, Math.floor(Math.log10(rangeLr / lr) + 1e-9)));
    }
    int k = Math.min(Math.min(n, longCount), DEAD_WINDOW) / 2 * 2;   // the raw losses since the last lr change
    if (k >= WINDOW) {
      int half = k / 2;
      double older = medianOfLast(longLoss, DEAD_WINDOW, longCount - half, half);
      double newer = medianOfLast(longLoss, DEAD_WINDOW, longCount, half);
      int m = 0;   // the median step-to-step change tells the raw loss's noise
      for (int i = 1; i < k; i++) {
        scratch[m++] = Math.abs(longLoss[Math.floorMod(longCount - i, DEAD_WINDOW)]
            - longLoss[Math.floorMod(longCount - i - 1, DEAD_WINDOW)]);
      }
      double noise = median(scratch, m);
      if (older - newer > 3 * noise / Math.sqrt(half)) slopePerStep = (older - newer) / half;
    }
    double r = Double.isNaN(promisePerStep) ? slopePerStep
        : Double.isNaN(slopePerStep) ? promisePerStep : Math.max(promisePerStep, slopePerStep);
    if (!(r > 0) || !(now > 0)) return -1;
    return (int) Math.max(0, Math.min(MAX_DECADES, Math.floor(Math.log10(FAST * now / r) + 1e-9)));
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

  /** The dead rules and a script's decades, which take medians, are reckoned every this many steps. */
  static final int CHECK = 5;
  private boolean deadBefore;
  private int decadesBefore = -1;

  /** Turns in a window that make the loss's alternation an oscillation: 80% of the window's 19, so 16. */
  private static final int FLIPS = (int) Math.ceil(0.8 * (WINDOW - 1));

  /**
   * The lr a verdict's advice sets (NaN: none), unrounded (it runs every step; {@link #nice} rounds it when written):
   * never an unusable lr, one the run failed at, or one for a self-tuner.
   */
  private double suggestion(Verdict v, double lr) {
    if (setup.selfTuning()) return Double.NaN;
    return switch (v) {
      case DIVERGING -> byBlowUp && lr < blowUpLr * (1 - 1e-9) ? Double.NaN : failed.cut(lr);   // cut since: wait
      case OSCILLATING, NON_FINITE -> failed.cut(lr);
      case TOO_SLOW -> {
        double f = ladder.watching() ? Double.NaN : failed.raiseFactor(lr);
        yield Double.isNaN(f) ? Double.NaN : lr * f;
      }
      default -> Double.NaN;
    };
  }

  private Diagnosis nonFinite(long step, double loss, double lr, double gradNorm, long since) {
    double to = nice(suggestion(Verdict.NON_FINITE, lr));
    String evidence = (Double.isFinite(loss) ? "gradient norm " + gradNorm : "loss " + loss) + " at step " + step;
    String advice = Double.isNaN(to) ? cutAdvice(to, lr) : cutAdvice(to, lr) + " and start again";
    return new Diagnosis(Verdict.NON_FINITE, advice, to, since, evidence);
  }

  /** "cut the lr ÷10 to 0.1", saying why when the memory of a failure made the cut deeper; or why there is none. */
  private String cutAdvice(double to, double lr) {
    if (setup.selfTuning()) return SELF_SMALLER;
    if (Double.isNaN(to)) return "no lr advice: the lr it reports (" + lr + ") is not a positive finite number";
    double factor = lr / to;
    if (Math.abs(factor / 10 - 1) < 1e-6) return "cut the lr ÷10 to " + fmt(to);
    return "cut the lr ÷" + fmt(factor) + " to " + fmt(to) + ", a decade under " + failed.lowest();
  }

  /** The verdict with its advice and evidence, in words: built when the diagnosis changes, or once a window. */
  private Diagnosis describe(Verdict v, long since, long step, double loss, double lr, double gradNorm) {
    double to = nice(suggestion(v, lr));
    Diagnosis d = switch (v) {
      case DIVERGING -> byBlowUp ? blownUpDiagnosis(since, loss, lr, to) : diverging(since, step, loss, lr, to);
      case DEAD -> deadDiagnosis(since, lr);
      case OSCILLATING -> new Diagnosis(v, cutAdvice(to, lr), to, since, Double.isNaN(oscillationRule)
          ? "the loss alternated up and down " + (int) flips.sum() + " times in " + WINDOW + " steps (rule: ≥ " + FLIPS
              + ") with no net progress (ratio " + fmt(ratio) + " > 0.99)"
              + (ratio > 1.05 ? "" : ", regularly (lag-1 autocorrelation " + fmt(lag1) + " ≤ " + fmt(REGULAR) + ")")
          : "successive updates point in opposite directions (mean cosine " + fmt(cos) + " < " + fmt(oscillationRule) + ")");
      case CONVERGED -> new Diagnosis(v, null, Double.NaN, since, floorByGradient
          ? (maxGrad > 0 ? "the gradient norm fell to " + fmt(gradNorm / maxGrad) + " of its largest (rule: ≤ "
              + fmt(GRAD_FLOOR) + ")" : "the gradient norm is 0")
          : highest == 0 ? "the loss fell to 0"
          : highest < LOSS_FLOOR * firstLoss
          ? "the loss fell to " + fmt(highest / firstLoss) + " of its first (rule: < " + fmt(LOSS_FLOOR) + ")"
          : "the schedule annealed the lr to " + fmt(lr / maxLr) + " of its peak");
      case TOO_SLOW -> tooSlow(since, lr, to);
      default -> new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, since, perStep < 0 && Double.isFinite(perStep)
          ? "the loss rose " + fmt(-100 * perStep) + "% per step over the last " + WINDOW + " steps (smoothed; raw now "
              + fmt(loss) + "), too little to call it diverging"
          : Double.isFinite(perStep) ? "the loss improves " + fmt(100 * perStep) + "% per step"
          : "the loss went from " + fmt(then) + " to " + fmt(now) + " over the last " + WINDOW + " steps");
    };
    String curvature = switch (v) {
      case DIVERGING, OSCILLATING -> overshoot(lr, to);
      case TOO_SLOW -> room(lr);
      default -> "";
    };
    return curvature.isEmpty() ? d : d.with(d.advice(), d.suggestedLr(), d.evidence() + "; " + curvature);
  }

  /** An unstable run's measured stability over 1, and where its cut brings it ("": none measured, or not over 1). */
  private String overshoot(double lr, double to) {
    if (!(stability > 1)) return "";
    return "lr × sharpness = " + fmt(stability) + " × the limit: steps overshoot along the sharpest direction"
        + (FailedLrs.usable(to) && FailedLrs.usable(lr) && to < lr
            ? "; ÷" + fmt(lr / to) + " brings it to " + fmt(stability * to / lr) : "");
  }

  /**
   * A too_slow run's measured stability under {@link #ROOMY}: the decades of lr before the limit, floor(log10(1/s)),
   * capped (as a raise is) half a decade under the lowest lr the run failed at ("": none measured, or not under it).
   */
  private String room(double lr) {
    if (!(stability < ROOMY) || !FailedLrs.usable(lr)) return "";
    int decades = (int) Math.floor(Math.log10(1 / stability) + 1e-9);
    int room = decades;
    while (room > 0 && !failed.allows(nice(lr * Math.pow(10, room)) / FailedLrs.MARGIN)) room--;
    return "lr × sharpness = " + fmt(stability) + " × the limit: " + (room == 0 ? "no decade more lr"
        : "room for about " + room + (room == 1 ? " decade" : " decades") + " more lr")
        + (room < decades ? " (capped under " + failed.lowest() + ")" : "");
  }

  /** Diverging by the smoothed loss's growth, with the raw numbers beside it and, when it earned it, an overflow estimate. */
  private Diagnosis diverging(long since, long step, double loss, double lr, double to) {
    double rawRatio = rawAgo(0) / rawAgo(WINDOW);   // the smoothed loss lags: the raw one tells the pace
    double growth = rawRatio > 1 ? rawRatio : ratio;
    String grew = (Double.isFinite(ratio) ? "the loss grew ×" + fmt(ratio) : "the loss grew from 0") + " over the last "
        + WINDOW + " steps (smoothed, an EWMA over " + WINDOW + " steps; " + (int) ups.sum() + " of them up): raw "
        + fmt(rawAgo(WINDOW)) + " at step " + (step - WINDOW) + ", now " + fmt(loss)
        + (minSmooth > 0 ? ", " + fmt(now / minSmooth) + "× its minimum" : "");
    String advice = cutAdvice(to, lr);
    // a steady growth, extrapolated: only a sane, finite estimate, and only once the last one came true
    double rate = Math.log(growth) / WINDOW;
    double left = Math.ceil(Math.log(Double.MAX_VALUE / Math.max(loss, Double.MIN_NORMAL)) / rate);
    boolean steady = growth >= 1.5 && ups.sum() >= 0.7 * WINDOW && left >= 1 && left <= MAX_OVERFLOW_STEPS;
    // right so far: the window's first half, extrapolated, foretold its second, and the last estimate came true
    int half = WINDOW / 2;
    double firstRate = Math.log(rawAgo(half) / rawAgo(WINDOW)) / half;
    boolean right = came(Math.log(rawAgo(half)), firstRate, half, Math.log(loss))
        && (predictedAt < 0 || step > predictedAt && came(predictedLog, predictedRate, step - predictedAt, Math.log(loss)));
    if (steady && !setup.script()) {
      predictedAt = step;
      predictedLog = Math.log(loss);
      predictedRate = rate;
    } else {
      predictedAt = -1;
    }
    if (!steady || !right || setup.script()) return new Diagnosis(Verdict.DIVERGING, advice, to, since, grew);
    String overflow = "overflows in about " + (long) left + " steps";
    return new Diagnosis(Verdict.DIVERGING, advice + "; the loss " + overflow, to, since, grew + "; it " + overflow
        + " (a steady growth: the estimates so far came true)");
  }

  /** Whether a log loss {@code from}, growing {@code rate} a step, came within reach of {@code actual} after {@code steps}. */
  private static boolean came(double from, double rate, long steps, double actual) {
    double predicted = from + rate * steps;
    return Double.isFinite(predicted) && Math.abs(actual - predicted) <= Math.max(Math.log(2), 0.25 * Math.abs(rate * steps));
  }

  private String trivialText() {
    return setup.numClasses() >= 2 ? "ln " + setup.numClasses() + " = " + fmt(trivial) + ", a uniform guess over "
        + setup.numClasses() + " classes" : "its first loss, " + fmt(trivial);
  }

  private String blowUpText() {
    return "the raw loss blew up to " + fmt(blowUpLoss) + " at step " + blowUpStep + " (×" + fmt(blowUpLoss / trivial)
        + " the trivial level, " + trivialText() + ") at lr " + fmt(blowUpLr);
  }

  /** Diverging after a blow-up the loss has not come back from. */
  private Diagnosis blownUpDiagnosis(long since, double loss, double lr, double to) {
    int k = (int) Math.min(Math.min(sinceBlowUp, WINDOW), n);
    String evidence = blowUpText() + (recovered() ? "; it learns again since" : "; it has not learnt since")
        + ": raw now " + fmt(loss) + ", median of its last " + k + " " + fmt(medianOfLast(raw, WINDOW + 1, n, k)) + " (smoothed, an EWMA over " + WINDOW + " steps: " + fmt(now) + ")";
    if (!Double.isNaN(to) || setup.selfTuning()) return new Diagnosis(Verdict.DIVERGING, cutAdvice(to, lr), to, since, evidence);
    return new Diagnosis(Verdict.DIVERGING, FailedLrs.usable(lr) ? "wait: the lr was cut to " + fmt(lr) + " after the"
        + " blow-up; if the loss does not come back under " + fmt(TRIVIAL * trivial) + ", the network died, and only a"
        + " rewind to before step " + blowUpStep + " revives it" : cutAdvice(to, lr), Double.NaN, since, evidence);
  }

  /** Dead: no lr change revives it; the retry lr is a decade under the lr it died at. */
  private Diagnosis deadDiagnosis(long since, double lr) {
    long k = deadFrom();
    double retry = setup.selfTuning() ? Double.NaN : nice(failed.cut(blownUp ? blowUpLr : lr));
    double level = medianOfLast(longLoss, DEAD_WINDOW, longCount, DEAD_WINDOW);
    int half = DEAD_WINDOW / 2;
    String still = "it has sat at " + fmt(level) + " (median of its last " + DEAD_WINDOW + " raw losses; " + trivialText()
        + ") with no net progress (median " + fmt(medianOfLast(longLoss, DEAD_WINDOW, longCount - half, half)) + " then "
        + fmt(medianOfLast(longLoss, DEAD_WINDOW, longCount, half)) + ")";
    double g = longGradMedian();
    String evidence = blownUp
        ? "after " + blowUpText() + ", " + still + (Double.isNaN(g) || blowUpGrad == 0 ? ""
            : "; its gradient norm (median " + fmt(g) + ") is " + fmt(g / blowUpGrad) + " of its " + fmt(blowUpGrad)
                + " at the blow-up")
        : (learntBefore() ? "it lost what it had learnt (its loss was down to " + fmt(runMin) + " at step " + runMinStep
            + ", smoothed): " + still : still + ", although its steps promised to move it by Σ lr × grad norm² = "
            + fmt(longPromised.sum())) + "; its gradient norm (median " + fmt(g) + ") is " + fmt(g / runMaxGrad)
            + " of its largest, " + fmt(runMaxGrad);
    String restart = setup.selfTuning() ? "a smaller step (d_coef under 1)" : "lr " + fmt(retry);
    String advice = "an lr change cannot revive it: rewind to before step " + k + (!blownUp && learntBefore() ? " (where its lr took"
        + " effect)" : "") + " (a guard on \"dead\" does it) or start again from before step " + k + " with " + restart;
    return new Diagnosis(Verdict.DEAD, advice, Double.NaN, since, evidence, retry);
  }

  /** Too slow: ×10 (or less, clear of a failed lr), how far the evidence says it may go, and the raises so far. */
  private Diagnosis tooSlow(long since, double lr, double to) {
    StringBuilder evidence = new StringBuilder("the loss improves ").append(fmt(100 * perStep)).append("% per step");
    if (!Double.isNaN(eff)) {
      evidence.append(", and each step delivers ").append(fmt(100 * eff))
          .append("% of its first-order promise: steps are small against the curvature");
    }
    int decades = decades(lr);
    lastDecades = decades;
    double upTo = decades > 0 ? nice(lr * Math.pow(10, decades)) : Double.NaN;
    if (decades > 0 && !failed.allows(upTo / FailedLrs.MARGIN)) upTo = Double.NaN;   // past a failed lr: not claimed
    if (decades >= 0) {
      evidence.append(fromRangeTest ? "; a range test suggests lr " + fmt(rangeLr)
          : Double.isNaN(slopePerStep) || slopePerStep < promisePerStep
          ? "; each step promises a decrease of lr × grad norm² = " + fmt(promisePerStep)
          : "; each step takes " + fmt(slopePerStep) + " off the raw loss (median of halves)");
      evidence.append(decades == 0 ? ": no decade more to gain" : ": the evidence supports about " + decades
          + (decades == 1 ? " decade" : " decades") + " more" + (fromRangeTest ? "" : " before a step takes "
          + fmt(100 * FAST) + "% of the loss") + (Double.isNaN(upTo) ? " (capped under " + failed.lowest() + ")"
          : " (to lr " + fmt(upTo) + ")"));
    }
    String rungs = ladder.describe();
    if (!rungs.isEmpty()) evidence.append("; ").append(rungs);
    String advice;
    if (setup.selfTuning()) {
      advice = SELF_LARGER;
    } else if (!FailedLrs.usable(lr)) {
      advice = "no lr advice: the lr it reports (" + lr + ") is not a positive finite number";
    } else if (ladder.watching()) {
      Ladder.Rung r = ladder.rungs().get(ladder.rungs().size() - 1);
      advice = "keep the lr for now: the raise to " + fmt(r.to()) + " at step " + r.step() + " is watched for "
          + Ladder.HOLD + " steps before the next";
    } else if (Double.isNaN(to)) {
      advice = "keep the lr: a raise would come within half a decade of " + failed.lowest();
    } else {
      double f = to / lr;
      advice = "raise the lr ×" + fmt(f) + " to " + fmt(to) + (Math.abs(f / 10 - 1) < 1e-6 ? ""
          : " (×10 would come within half a decade of " + failed.lowest() + ")");
      if (decades >= 2 && !Double.isNaN(upTo)) advice += "; the evidence supports about " + decades + " decades (to lr "
          + fmt(upTo) + "): raise again once this one held";
    }
    return new Diagnosis(Verdict.TOO_SLOW, advice, to, since, evidence.toString());
  }

  /** The raw loss {@code k} steps ago (0: this step), for k ≤ WINDOW. */
  private double rawAgo(int k) {
    return raw[(n - 1 - k) % (WINDOW + 1)];
  }

  /** lr/10 and lr·10 as a person writes them: 1.1/10 is 0.11, not 0.11000000000000001. */
  public static double nice(double v) {
    return Double.isFinite(v) && v != 0 ? rounded(v, 12).doubleValue() : v;
  }

  /**
   * {@code v} to {@code digits} significant digits, as {@code new BigDecimal(v).round(digits)} (half up, of its exact
   * binary value) gives it, from its shortest decimal instead where that is the same: always, but where the shortest
   * decimal is itself a tie at that digit. The exact expansion's BigInteger arithmetic was a tenth of a 100-run
   * sweep's CPU (every diagnosis text formats its numbers).
   */
  static java.math.BigDecimal rounded(double v, int digits) {
    java.math.BigDecimal shortest = java.math.BigDecimal.valueOf(v);
    int beyond = shortest.precision() - digits;
    if (beyond <= 0) return shortest;
    java.math.BigInteger rest = shortest.unscaledValue().abs().mod(java.math.BigInteger.TEN.pow(beyond));
    boolean tie = rest.equals(java.math.BigInteger.valueOf(5).multiply(java.math.BigInteger.TEN.pow(beyond - 1)));
    return (tie ? new java.math.BigDecimal(v) : shortest).round(new java.math.MathContext(digits));
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

    int count() {
      return count;
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
    java.math.BigDecimal b = rounded(v, 3).stripTrailingZeros();
    double a = Math.abs(v);
    return a != 0 && (a >= 1e6 || a < 1e-4) ? b.toString() : b.toPlainString();
  }
}
