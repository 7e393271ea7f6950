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
import io.losswatch.event.Written;
import io.losswatch.store.RunHistory;
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
 *
 * <p>A persisted run never gets more than {@link RunHistory#MAX_UNWRITTEN} steps ahead of the store: it waits
 * for the store's {@link Written} word (backpressure), it ends only once its last step is on disk, and it
 * pauses (reason {@code storage}, one alert) while its steps cannot be written, resuming by itself when they
 * can. An ended run lets go of its trainer and its memory window, and its verticle goes away.
 */
public final class RunVerticle extends VerticleBase {
  static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(4);
  static final int MAX_BATCH = 4096;
  static final long MIN_PACE_PERIOD_MS = 20;
  /** How long before the wall clock's frame boundaries a paced run takes its steps. */
  static final long PACE_LEAD_MS = 4;
  /** A demo run that ended waits this long before starting over, so its end can be seen. */
  static final long DEMO_RESTART_MS = 3000;
  /** A too_slow verdict that lasts this many steps becomes an alert. */
  static final int SLOW_ALERT_STEPS = 200;
  private static final Set<Verdict> ACTIONABLE = EnumSet.of(Verdict.TOO_SLOW, Verdict.OSCILLATING, Verdict.DIVERGING);
  private static final Logger LOG = Logger.getLogger(RunVerticle.class.getName());
  /**
   * The store's word can reach a run's {@code written} consumer as the run goes away (deleted, or the server
   * stopping), and Vert.x then logs "Discarding message since the consumer is not registered" for each: a race
   * with nothing lost (a gone run waits for nothing), so those lines are dropped; any other stays. Held here:
   * the logging framework keeps loggers weakly.
   */
  private static final Logger CONSUMERS = Logger.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");

  static {
    java.util.logging.Filter before = CONSUMERS.getFilter();
    CONSUMERS.setFilter(r -> !(r.getMessage() != null && r.getMessage().startsWith("Discarding message since the consumer is"
        + " not registered") && r.getMessage().endsWith(".written")) && (before == null || before.isLoggable(r)));
  }

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
  /** The state the run reached, held until its last step is on disk. */
  private RunState ending;
  /** Whether the store reported a failed write it has not yet caught up with. */
  private boolean storageFault;
  /** Whether this run paused itself for that fault (and so resumes by itself after it). */
  private boolean pausedForStorage;
  private boolean sliceQueued;
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
    var written = vertx.eventBus().<Written>localConsumer(Events.written(run.id()), m -> onWritten(m.body()));
    return Future.all(commands.completion(), written.completion()).onSuccess(v -> context.runOnContext(x -> begin()));
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
      wake();
      return;
    }
    cancelTimer();
    paceStep = trainer.stepsTaken();
    // at most 50 wake-ups a second (a fast pace takes several steps per batch: every consumer handles each
    // batch, so batches of one step cost every subscriber dearly), at least one (a slow run wakes seldom)
    long period = Math.max(MIN_PACE_PERIOD_MS, Math.min(1000, Math.round(1000 / stepsPerSecond)));
    // on the wall clock's grid, just before each multiple of the period: WebSocket frames go out on that grid
    // (StreamGateway), so a step taken here is seen within milliseconds, not up to a period later
    long first = Math.floorMod(period - PACE_LEAD_MS - System.currentTimeMillis(), period) + 1;
    // the pace counts from half a period before the first wake-up, so each wake-up finds its steps due
    // however its timer jitters
    paceNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(first) - TimeUnit.MILLISECONDS.toNanos(period) / 2;
    timer = vertx.setPeriodic(first, period, id -> {
      long due = (long) ((System.nanoTime() - paceNanos) * stepsPerSecond / 1e9) - (trainer.stepsTaken() - paceStep);
      if (due > 0) slice(due);
    });
  }

  /** Queues the next slice of an unpaced run, unless one is queued already (there is one chain of slices). */
  private void wake() {
    if (stepsPerSecond > 0 || sliceQueued) return;
    sliceQueued = true;
    context.runOnContext(v -> {
      sliceQueued = false;
      slice(Long.MAX_VALUE);
    });
  }

  /** Takes up to {@code budget} steps within the time slice, then publishes them and yields. */
  private void slice(long budget) {
    if (undeployed || state != RunState.RUNNING || ending != null) return;
    if (run.history().unwritten() >= RunHistory.MAX_UNWRITTEN) return;   // the store's next word wakes it
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
    else wake();
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
    if (trainer == null) return old.withState(s, System.currentTimeMillis());   // ended: nothing moves any more
    long step = trainer.stepsTaken();
    return new RunSummary(run.id(), run.spec(), s, run.cycle(), step, trainer.loss(), trainer.lr(), trainer.gradNorm(),
        bestLoss, s == RunState.RUNNING ? measuredRate : 0, old.created(), System.currentTimeMillis(),
        diagnoser.current(), List.copyOf(lrChanges), storageFault && s == RunState.PAUSED ? RunSummary.STORAGE : null);
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
    alert(kind, d.verdict().label() + " since step " + d.sinceStep() + ": " + d.evidence()
        + (d.advice() == null ? "" : ". Advice: " + d.advice()), d.suggestedLr());
  }

  private void alert(Alert.Kind kind, String what, double suggestedLr) {
    vertx.eventBus().publish(Events.RUNS, new Alert(run.id(), run.spec().name(), kind, run.summary().step(),
        run.spec().name() + ": " + what, suggestedLr, System.currentTimeMillis()));
  }

  /**
   * The store's word on how far the steps are on disk: frees the memory they held, wakes a run that waited
   * for it, ends a run that waited for its last step; a failed write pauses the run until the store catches up.
   */
  private void onWritten(Written w) {
    RunHistory h = run.history();
    h.persisted(w.records());
    if (w.failed()) {
      if (!storageFault) storagePause(w);
      return;
    }
    if (storageFault && h.unwritten() == 0) storageResume();
    if (h.unwritten() == 0 && ending != null && state == RunState.RUNNING) end(ending);
    else if (h.unwritten() == 0 && !state.isLive()) retire();
    else if (state == RunState.RUNNING) wake();   // it may have waited for this word
  }

  private void storagePause(Written w) {
    storageFault = true;
    if (state == RunState.RUNNING) {
      cancelTimer();
      pausedForStorage = true;
      changeState(RunState.PAUSED);
    }
    alert(Alert.Kind.STORAGE, "paused: its steps after step " + w.lastStep() + " cannot be written (" + w.fault()
        + "); they are kept, and the run resumes by itself once they are written", Double.NaN);
  }

  private void storageResume() {
    storageFault = false;
    if (pausedForStorage) {
      pausedForStorage = false;
      changeState(RunState.RUNNING);
      schedule();
    } else if (state == RunState.PAUSED) {
      changeState(RunState.PAUSED);   // paused by a person: it stays so, without the reason
    }
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

  /** The run reached its end: it takes that state once its last step is on disk. */
  private void finish(RunState end) {
    cancelTimer();
    if (run.history().unwritten() > 0) ending = end;
    else end(end);
  }

  private void end(RunState end) {
    ending = null;
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
    if (!s.isLive()) {
      trainer = null;   // a demo run builds a new one when it starts over
      if (run.history().unwritten() == 0) retire();
    }
  }

  /** An ended run that is all on disk keeps only its summary: no memory window, no verticle. */
  private void retire() {
    if (run.demo() || undeployed) return;
    run.history().release();
    undeployed = true;
    vertx.undeploy(context.deploymentID());
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
        if (state == RunState.PAUSED && pausedForStorage) {
          pausedForStorage = false;   // paused for storage, and now by a person too: it stays paused after
        } else if (state != RunState.RUNNING || ending != null) {
          refuse(m, ending != null ? "cannot pause: it took its last step" : "cannot pause");
          return;
        } else {
          cancelTimer();
          changeState(RunState.PAUSED);
        }
      }
      case RESUME -> {
        if (state != RunState.PAUSED || storageFault) {
          refuse(m, storageFault ? "cannot resume while its steps cannot be written (storage); it resumes by itself"
              + " once they are" : "cannot resume");
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
        ending = null;
        pausedForStorage = false;
        changeState(RunState.STOPPED);
      }
    }
    m.reply(run.summary());
  }

  private void refuse(Message<?> m, String what) {
    m.fail(409, "run " + run.id() + " is " + state.label() + ": " + what);
  }
}
