package io.losswatch.core;

import io.losswatch.core.curvature.Curvature;
import io.losswatch.core.optim.Optimizer;
import io.losswatch.core.problem.Problem;
import io.losswatch.core.schedule.Schedule;
import io.losswatch.core.state.State;

/**
 * Runs a {@link RunSpec} one step at a time, the way a torch training loop does:
 * <pre>
 *   loss, grad = f(θ)            record (t, loss, ‖grad‖₂)
 *   opt.step()                   record the lr this step used (Optimizer.stepLr: d·lr for D-Adaptation, …)
 *   every curvature_every steps: the sharpness at θ (this step's sample, the denominator opt.step used)
 *   sched.step()                 (plateau: sched.step(loss))
 * </pre>
 * The values recorded for the step just taken are read back with {@link #loss()}, {@link #lr()},
 * {@link #gradNorm()}, {@link #sharpness()} and {@link #stability()}. Measuring the curvature reads and changes
 * nothing the trajectory depends on. A non-finite loss does not stop the trainer; callers decide. Not thread-safe,
 * and allocation-free per step.
 */
public final class Trainer {
  private final RunSpec spec;
  private final Problem problem;
  private final Optimizer optimizer;
  private final Schedule schedule;
  private final double[] params;
  private final double[] grad;
  private final double[] before;     // the parameters before the last step
  private final double[] lastUpdate;  // the step before's update, for the geometry below
  private final double baseLr;
  private double lrScale = 1;
  private long stepsTaken;
  private double loss = Double.NaN;
  private double lr = Double.NaN;
  private double gradNorm = Double.NaN;
  private double updateCosine = Double.NaN;
  private double predictedDecrease = Double.NaN;
  private double efficiency = Double.NaN;
  private final Curvature curvature;   // null when curvature_every is 0
  private boolean measuring;           // a step taken but its curvature measurement not finished
  private double sharpness = Double.NaN;
  private double threshold = Double.NaN;
  private double stability = Double.NaN;

  public Trainer(RunSpec spec) {
    this(spec, spec.curvatureEvery() > 0);
  }

  private Trainer(RunSpec spec, boolean measure) {
    this.spec = spec;
    problem = spec.problem().create();
    params = problem.initialParams();
    grad = new double[params.length];
    before = new double[params.length];
    lastUpdate = new double[params.length];
    optimizer = spec.optimizer().create(params.length);
    baseLr = spec.optimizer().lr();
    schedule = spec.schedule().create(baseLr);
    curvature = measure ? new Curvature(problem, optimizer) : null;
    applySchedule();
  }

  /** A trainer of the same spec continued from {@code state} (a {@link #state()}): its next steps equal ours. */
  public Trainer(RunSpec spec, State state) {
    this(spec);
    load(state);
  }

  /** An independent copy at this very step: stepping it never touches this one. */
  public Trainer fork() {
    return new Trainer(spec, state());
  }

  /** A {@link #fork()} that measures no curvature: a what-if branch, whose losses alone are compared. */
  public Trainer forkWithoutCurvature() {
    Trainer t = new Trainer(spec, false);
    t.load(state());
    return t;
  }

  /**
   * Everything the next step depends on, bit for bit: the parameters, the optimizer's, schedule's and problem's
   * states (the minibatch order and its random state included), the curvature measurement's warm start, and what
   * the last step measured. Not in the middle of a step ({@link #step(int)} answered false).
   */
  public State state() {
    if (measuring) throw new IllegalStateException("a step is under way: finish it first");
    State s = new State().put("step", stepsTaken).put("params", params).put("before", before)
        .put("last_update", lastUpdate).put("lr_scale", lrScale).put("loss", loss).put("lr", lr)
        .put("grad_norm", gradNorm).put("update_cosine", updateCosine).put("predicted_decrease", predictedDecrease)
        .put("efficiency", efficiency).put("optimizer", optimizer.state()).put("schedule", schedule.state())
        .put("problem", problem.state())
        .put("sharpness", sharpness).put("threshold", threshold).put("stability", stability);
    return curvature == null ? s : s.put("curvature", curvature.state());
  }

  private void load(State s) {
    stepsTaken = s.integer("step");
    s.copy("params", params);
    s.copy("before", before);
    s.copy("last_update", lastUpdate);
    lrScale = s.number("lr_scale");
    loss = s.number("loss");
    lr = s.number("lr");
    gradNorm = s.number("grad_norm");
    updateCosine = s.number("update_cosine");
    predictedDecrease = s.number("predicted_decrease");
    efficiency = s.number("efficiency");
    optimizer.load(s.state("optimizer"));
    schedule.load(s.state("schedule"));
    problem.load(s.state("problem"));
    // states saved before the curvature was measured have none of it
    if (s.has("sharpness")) {
      sharpness = s.number("sharpness");
      threshold = s.number("threshold");
      stability = s.number("stability");
    }
    if (curvature != null && s.has("curvature")) curvature.load(s.state("curvature"));
  }

  public RunSpec spec() {
    return spec;
  }

  /** Takes one step, its curvature measurement included when due. */
  public void step() {
    step(Integer.MAX_VALUE);
  }

  /**
   * Takes one step with at most {@code products} Hessian-vector products of its curvature measurement (each 0.8 to
   * 1.7 evaluations' worth), so that an event loop can spread a measurement over slices: false when the
   * measurement is unfinished; then the next calls go on with it, and the step counts as taken (its values, its
   * state) only once one answers true.
   */
  public boolean step(int products) {
    if (products < 1) throw new IllegalArgumentException("products must be >= 1, got " + products);
    if (!measuring) begin();
    if (measuring) {
      for (int k = 0; !curvature.advance(); k++) {
        if (k + 1 >= products) return false;
      }
      measuring = false;
      sharpness = curvature.result();
      stability = lr * sharpness / threshold;
    }
    stepsTaken++;
    return true;
  }

  /** Everything of a step but the curvature measurement, which it only begins when due. */
  private void begin() {
    problem.nextBatch();
    double previousLoss = loss;
    loss = problem.evaluate(params, grad);
    gradNorm = norm(grad);
    // how much of the decrease the last update promised (first order: -g·Δ) it delivered
    efficiency = (previousLoss - loss) / predictedDecrease;
    System.arraycopy(params, 0, before, 0, params.length);
    optimizer.step(params, grad);
    lr = optimizer.stepLr();   // after the step: a learning-rate-free optimizer sets its step as it takes it
    sharpness = threshold = stability = Double.NaN;
    if (curvature != null && (stepsTaken + 1) % spec.curvatureEvery() == 0) {
      threshold = optimizer.stabilityThreshold();   // before a schedule moves the momentum
      curvature.begin(before);   // the gradient's point, sample and the optimizer's denominator are this step's
      measuring = true;
    }
    measureUpdate();
    schedule.step(loss);
    applySchedule();
  }

  /**
   * Sets the learning rate from the next step on. Under a schedule, the schedule's output is scaled by the
   * same factor from then on, so its shape goes on from the new level.
   */
  public void setLr(double newLr) {
    if (!(newLr > 0) || !Double.isFinite(newLr)) throw new IllegalArgumentException("lr must be > 0, got " + newLr);
    double scheduled = schedule.lr();
    // a schedule at zero (warmup's first step) has no level to scale: scale its base instead
    lrScale = newLr / (scheduled > 0 ? scheduled : baseLr);
    optimizer.setLr(newLr);
  }

  /** The update's cosine with the previous one, and the decrease it predicts to first order. */
  private void measureUpdate() {
    double dot = 0;
    double norm = 0;
    double lastNorm = 0;
    double predicted = 0;
    for (int i = 0; i < params.length; i++) {
      double d = params[i] - before[i];
      dot += d * lastUpdate[i];
      norm += d * d;
      lastNorm += lastUpdate[i] * lastUpdate[i];
      predicted -= grad[i] * d;
      lastUpdate[i] = d;
    }
    updateCosine = dot / Math.sqrt(norm * lastNorm);
    predictedDecrease = predicted;
  }

  private void applySchedule() {
    optimizer.setLr(schedule.lr() * lrScale);
    double m = schedule.momentum();
    if (!Double.isNaN(m)) optimizer.setMomentum(m);
  }

  /** The L2 norm, summed plainly as torch's {@code vector_norm} does: squares that overflow give infinity. */
  static double norm(double[] v) {
    double s = 0;
    for (double x : v) s += x * x;
    return Math.sqrt(s);
  }

  /** Steps taken so far; the values below belong to the last of them. */
  public long stepsTaken() {
    return stepsTaken;
  }

  /** The loss at the parameters the last step started from. */
  public double loss() {
    return loss;
  }

  /** The learning rate the last step used. */
  public double lr() {
    return lr;
  }

  /** The L2 norm of the last step's gradient. */
  public double gradNorm() {
    return gradNorm;
  }

  /**
   * The cosine between the last update and the one before (NaN until there are two, or if either is zero):
   * near −1 when the parameters overshoot the minimum step after step.
   */
  public double updateCosine() {
    return updateCosine;
  }

  /**
   * The last step's loss decrease as a fraction of what the update before it promised to first order
   * (−g·Δ): near 1 when steps are small against the curvature (a larger lr would give proportionally more),
   * near 0 or below when they overshoot. NaN until known. On minibatches it is noisy.
   */
  public double efficiency() {
    return efficiency;
  }

  /**
   * The sharpness where the last step took its gradient: the largest eigenvalue of the loss' Hessian over that
   * step's sample, of P⁻¹H for an optimizer that {@link #preconditioned() preconditions} (see {@link Curvature}).
   * NaN unless the last step was a measured one (every {@code curvature_every} steps) or the Hessian is not finite.
   */
  public double sharpness() {
    return sharpness;
  }

  /**
   * lr × {@link #sharpness()} / {@link #threshold()}: below 1 the last step was stable along the sharpest
   * direction, above 1 it overshot it. NaN when not measured.
   */
  public double stability() {
    return stability;
  }

  /** The optimizer's stability threshold on lr × sharpness at the last step; NaN when not measured. */
  public double threshold() {
    return threshold;
  }

  /** Whether {@link #sharpness()} is the preconditioned λ(P⁻¹H) (Adam, AdamW, RMSprop, Adagrad) rather than H's. */
  public boolean preconditioned() {
    return optimizer.preconditioned();
  }

  /** The learning rate the next step will use. */
  public double nextLr() {
    return optimizer.lr();
  }

  /** The factor lr changes (a person's, auto_lr's, a rewind's) put on the schedule's lr: 1 while none was made. */
  public double lrScale() {
    return lrScale;
  }

  /** Training accuracy at the current parameters for classification problems, NaN otherwise. */
  public double accuracy() {
    return problem.accuracy(params);
  }

  /** A copy of the current parameters. */
  public double[] params() {
    return params.clone();
  }
}
