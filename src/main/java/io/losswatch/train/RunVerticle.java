package io.losswatch.train;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.Alert;
import io.losswatch.event.LrChange;
import io.losswatch.event.Events;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One run, trained on this verticle's event loop in slices bounded by time, so the loop never blocks: each
 * slice takes steps for at most {@link #SLICE_NANOS}, appends them to the run's history, publishes them as one
 * {@link StepBatch}, and yields. Paced runs ({@code steps_per_second} &gt; 0) take the steps that are due on a
 * timer instead. Commands arrive as messages, so the run's state is only ever touched on its own thread.
 */
public final class RunVerticle extends VerticleBase {
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(4);
  static final int MAX_BATCH = 4096;
  static final long MIN_PACE_PERIOD_MS = 20;
  /** A demo run that ended waits this long before starting over, so its end can be seen. */
  static final long DEMO_RESTART_MS = 3000;
  /** A too_slow verdict that lasts this many steps becomes an alert. */
  static final int SLOW_ALERT_STEPS = 200;
  private static final Set<Verdict> ACTIONABLE = EnumSet.of(Verdict.TOO_SLOW, Verdict.OSCILLATING, Verdict.DIVERGING);
  private static final Logger LOG = Logger.getLogger(RunVerticle.class.getName());

  private final Run run;
  private final double stepsPerSecond;
  private final StepBatch.Builder batch = new StepBatch.Builder(256);
  private Trainer trainer;
  private final Diagnoser diagnoser = new Diagnoser();
  private final List<LrChange> lrChanges = new ArrayList<>();
  private boolean diagnosisChanged;
  private long lastAutoStep = Long.MIN_VALUE / 2;
  private long slowAlertedSince = -1;
  private RunState state = RunState.CREATED;
  private double bestLoss = Double.NaN;
  private long timer = -1;
  private long restartTimer = -1;
  private boolean undeployed;
  private long paceNanos;
  private long paceStep;
  private long rateNanos;
  private long rateStep;
  private double measuredRate;

  /** {@code trainer} is the run's first, built by the caller off the event loop. */
  RunVerticle(Run run, Trainer trainer) {
    this.run = run;
    this.trainer = trainer;
    this.stepsPerSecond = run.spec().stepsPerSecond();
  }

  @Override
  public Future<?> start() {
    var commands = vertx.eventBus().<RunCommand>localConsumer(Events.commands(run.id()), this::onCommand);
    return commands.completion().onSuccess(v -> context.runOnContext(x -> begin()));
  }

  @Override
  public Future<?> stop() {
    undeployed = true;   // timers and consumers go with the deployment; queued slices see this flag
    return Future.succeededFuture();
  }

  private void begin() {
    if (trainer == null || trainer.stepsTaken() > 0) trainer = new Trainer(run.spec());   // datasets are cached by now
    bestLoss = Double.NaN;
    diagnoser.reset();
    lrChanges.clear();
    slowAlertedSince = -1;
    rateNanos = System.nanoTime();
    rateStep = 0;
    measuredRate = 0;
    changeState(RunState.RUNNING);
    schedule();
  }

  private void schedule() {
    if (undeployed || state != RunState.RUNNING) return;
    if (stepsPerSecond <= 0) {
      context.runOnContext(v -> slice(Long.MAX_VALUE));
      return;
    }
    paceNanos = System.nanoTime();
    paceStep = trainer.stepsTaken();
    // at most 50 wake-ups a second (a fast pace takes several steps per batch: every consumer handles each
    // batch, so batches of one step cost every subscriber dearly), at least one (a slow run wakes seldom)
    long period = Math.max(MIN_PACE_PERIOD_MS, Math.min(1000, Math.round(1000 / stepsPerSecond)));
    timer = vertx.setPeriodic(period, id -> {
      long due = (long) ((System.nanoTime() - paceNanos) * stepsPerSecond / 1e9) - (trainer.stepsTaken() - paceStep);
      if (due > 0) slice(due);
    });
  }

  /** Takes up to {@code budget} steps within the time slice, then publishes them and yields. */
  private void slice(long budget) {
    if (undeployed || state != RunState.RUNNING) return;
    long start = System.nanoTime();
    long deadline = start + SLICE_NANOS;
    long startMillis = System.currentTimeMillis();
    long total = run.spec().steps();
    RunState end = null;
    try {
      long now = start;
      for (long k = 0; k < budget && batch.size() < MAX_BATCH && now < deadline; k++) {
        trainer.step();
        now = System.nanoTime();
        double loss = trainer.loss();
        batch.add(trainer.stepsTaken(), loss, trainer.lr(), trainer.gradNorm(),
            startMillis + (now - start) / 1_000_000);
        if (loss < bestLoss || Double.isNaN(bestLoss)) bestLoss = loss;
        diagnose();
        if (!Double.isFinite(loss) || !Double.isFinite(trainer.gradNorm())) {
          end = RunState.DIVERGED;
          break;
        }
        if (trainer.stepsTaken() >= total) {
          end = RunState.FINISHED;
          break;
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "run " + run.id() + " failed at step " + (trainer.stepsTaken() + 1), e);
      end = RunState.FAILED;
    }
    publishBatch();
    if (diagnosisChanged) announceDiagnosis();
    checkSlow();
    if (end != null) finish(end);
    else if (stepsPerSecond <= 0) context.runOnContext(v -> slice(Long.MAX_VALUE));
  }

  private void publishBatch() {
    if (batch.size() == 0) return;
    StepBatch b = batch.build(run.id(), run.cycle());
    run.history().append(b);   // before publishing: whoever sees the batch finds it in the history too
    long now = System.nanoTime();
    long step = trainer.stepsTaken();
    if (now - rateNanos >= 1_000_000_000L || (measuredRate == 0 && now - rateNanos >= 100_000_000L)) {
      measuredRate = (step - rateStep) * 1e9 / (now - rateNanos);
      rateNanos = now;
      rateStep = step;
    }
    run.summary(summary(state));
    vertx.eventBus().publish(Events.RUNS, b);
  }

  private RunSummary summary(RunState s) {
    RunSummary old = run.summary();
    long step = trainer.stepsTaken();
    return new RunSummary(run.id(), run.spec(), s, run.cycle(), step, trainer.loss(), trainer.lr(), trainer.gradNorm(),
        bestLoss, s == RunState.RUNNING ? measuredRate : 0, old.created(), System.currentTimeMillis(),
        diagnoser.current(), List.copyOf(lrChanges));
  }

  /** Feeds the step just taken to the diagnoser; with auto_lr, follows its advice at most once a window. */
  private void diagnose() {
    long step = trainer.stepsTaken();
    diagnosisChanged |= diagnoser.observe(step, trainer.loss(), trainer.lr(), trainer.gradNorm(),
        trainer.updateCosine(), trainer.efficiency());
    Diagnosis d = diagnoser.current();
    if (run.spec().autoLr() && d.hasAdvice() && ACTIONABLE.contains(d.verdict())
        && step - lastAutoStep >= Diagnoser.WINDOW) {
      lastAutoStep = step;
      changeLr(d.suggestedLr(), "auto");
    }
  }

  /** Tells everyone the new diagnosis, and raises the alerts it calls for. */
  private void announceDiagnosis() {
    diagnosisChanged = false;
    Diagnosis d = diagnoser.current();
    switch (d.verdict()) {
      case DIVERGING -> alert(Alert.Kind.DIVERGING, d);
      case NON_FINITE -> alert(Alert.Kind.NON_FINITE, d);
      default -> { }
    }
    RunSummary s = summary(state);
    run.summary(s);
    vertx.eventBus().publish(Events.RUNS, s);
  }

  /** A too_slow verdict is only worth an alert once it has lasted. */
  private void checkSlow() {
    Diagnosis d = diagnoser.current();
    if (d.verdict() != Verdict.TOO_SLOW || slowAlertedSince == d.sinceStep()) return;
    if (trainer.stepsTaken() - d.sinceStep() >= SLOW_ALERT_STEPS) {
      slowAlertedSince = d.sinceStep();
      alert(Alert.Kind.TOO_SLOW, d);
    }
  }

  private void alert(Alert.Kind kind, Diagnosis d) {
    String message = run.spec().name() + ": " + d.verdict().label() + " since step " + d.sinceStep() + ": "
        + d.evidence() + (d.advice() == null ? "" : ". Advice: " + d.advice());
    vertx.eventBus().publish(Events.RUNS, new Alert(run.id(), run.spec().name(), kind, trainer.stepsTaken(), message,
        d.suggestedLr(), System.currentTimeMillis()));
  }

  /** Sets the lr from the next step on, records the change, and starts the diagnosis afresh. */
  private void changeLr(double lr, String cause) {
    double from = trainer.nextLr();
    trainer.setLr(lr);
    diagnoser.reset();
    diagnosisChanged = true;
    lrChanges.add(new LrChange(trainer.stepsTaken() + 1, from, trainer.nextLr(), cause));
    if (lrChanges.size() > 100) lrChanges.remove(0);
  }

  private void finish(RunState end) {
    cancelTimer();
    changeState(end);
    if (run.demo() && !undeployed) {
      restartTimer = vertx.setTimer(DEMO_RESTART_MS, id -> {
        restartTimer = -1;
        run.startOver();
        begin();
      });
    }
  }

  private void changeState(RunState s) {
    state = s;
    RunSummary summary = summary(s);
    run.summary(summary);
    vertx.eventBus().publish(Events.RUNS, summary);
  }

  private void cancelTimer() {
    if (timer != -1) vertx.cancelTimer(timer);
    timer = -1;
  }

  private void onCommand(Message<RunCommand> m) {
    RunCommand c = m.body();
    switch (c.kind()) {
      case SET_LR, APPLY_ADVICE -> {
        if (!state.isLive()) {
          refuse(m, "cannot change the lr");
          return;
        }
        Diagnosis d = diagnoser.current();
        if (c.kind() == RunCommand.Kind.APPLY_ADVICE && !d.hasAdvice()) {
          m.fail(409, "run " + run.id() + " has no advice to apply (" + d.verdict().label() + ")");
          return;
        }
        changeLr(c.kind() == RunCommand.Kind.SET_LR ? c.lr() : d.suggestedLr(),
            c.kind() == RunCommand.Kind.SET_LR ? "set" : "advice");
        announceDiagnosis();
      }
      case PAUSE -> {
        if (state != RunState.RUNNING) {
          refuse(m, "cannot pause");
          return;
        }
        cancelTimer();
        changeState(RunState.PAUSED);
      }
      case RESUME -> {
        if (state != RunState.PAUSED) {
          refuse(m, "cannot resume");
          return;
        }
        changeState(RunState.RUNNING);
        schedule();
      }
      case STOP -> {
        if (!state.isLive() && restartTimer == -1) {
          refuse(m, "cannot stop");
          return;
        }
        if (restartTimer != -1) vertx.cancelTimer(restartTimer);
        restartTimer = -1;
        cancelTimer();
        changeState(RunState.STOPPED);
      }
    }
    m.reply(run.summary());
  }

  private void refuse(Message<?> m, String what) {
    m.fail(409, "run " + run.id() + " is " + state.label() + ": " + what);
  }
}
