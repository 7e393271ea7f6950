package io.losswatch.run;

import io.losswatch.core.Trainer;
import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.state.State;
import io.losswatch.event.Alert;
import io.losswatch.event.Checkpoint;
import io.losswatch.event.Events;
import io.losswatch.event.Fork;
import io.losswatch.event.LrChange;
import io.losswatch.event.Rewind;
import io.losswatch.event.Rewound;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.event.Written;
import io.losswatch.history.RunHistory;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One run's life, whatever its {@link StepSource}: its state ({@link RunState}'s table), its diagnosis, alerts and lr
 * changes ({@link RunPolicy}), the commands people send it, its checkpoints, and its pace against the store — all on
 * its own event loop, as one verticle per run.
 *
 * <p>A persisted run never gets more than {@link RunHistory#MAX_UNWRITTEN} steps ahead of its log (its source waits
 * for the store's {@link Written} word), takes its end state only once its last step is on disk, and pauses (reason
 * {@code storage}, one alert) while its steps cannot be written, resuming by itself when they can. An ended run that
 * is all on disk keeps only its summary: its verticle goes away.
 */
final class RunLifecycle extends VerticleBase implements StepSource.Lifecycle {
  /** A diagnosis whose text was merely refreshed is told at most this often (news is told at once). */
  static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** A run with a state of its own to keep checkpoints it at least this often, and at every lr change, pause and end. */
  static final long CHECKPOINT_NANOS = TimeUnit.SECONDS.toNanos(2);
  /** A demo run that ended waits this long before starting over, so its end can be seen. */
  static final long DEMO_RESTART_MS = 3000;
  /** The lr changes a summary carries, the newest. */
  static final int MAX_LR_CHANGES = 100;
  private final Run run;
  private final RunPolicy policy;
  private final StepSource source;
  private final List<LrChange> lrChanges = new ArrayList<>();
  private final List<Rewind> rewinds = new ArrayList<>();
  private RunState state;
  private boolean undeployed;
  /** The state the run reached, held until its last step is on disk. */
  private RunState ending;
  /** Why a script said its run failed. */
  private String failure;
  /** Whether the store reported a failed write it has not yet caught up with. */
  private boolean storageFault;
  /** Whether this run paused itself for that fault (and so resumes by itself after it). */
  private boolean pausedForStorage;
  // where the run stands: its last step, as its summary shows it
  private long step;
  private double loss;
  private double lr;
  private double gradNorm;
  private double bestLoss;
  /** The last curvature measurement (null: none yet), what the source's measure, and its threshold if it said. */
  private RunSummary.Curvature curvature;
  private boolean preconditioned;
  private double threshold = Double.NaN;
  private boolean firstMeasured;
  private long rateNanos = System.nanoTime();
  private long rateStep;
  private double rate;
  private long refreshedNanos = System.nanoTime() - REFRESH_NANOS;
  private long checkpointNanos;
  private long restartTimer = -1;
  /** A rewind the guard called for at this step (-1: none), done once every step is on disk, and why. */
  private long rewindAt = -1;
  private String rewindWhy;

  private RunLifecycle(Run run, RunPolicy policy, Function<StepSource.Lifecycle, StepSource> source) {
    this.run = run;
    this.policy = policy;
    RunSummary s = run.summary();
    state = s.state();
    step = s.step();
    loss = s.loss();
    lr = s.lr();
    gradNorm = s.gradNorm();
    bestLoss = s.bestLoss();
    curvature = s.curvature();
    if (curvature != null) preconditioned = curvature.preconditioned();
    rateStep = step;
    lrChanges.addAll(s.lrChanges());
    rewinds.addAll(s.rewinds());
    this.source = source.apply(this);
  }

  /**
   * A built-in run, its first trainer built by the caller off the event loop; {@code continued}: it goes on from the
   * trainer's state (restored after a restart, or forked for a branch), not from step 0.
   */
  static RunLifecycle builtIn(Run run, Trainer first, boolean continued) {
    RunPolicy policy = new RunPolicy(run.spec());
    return new RunLifecycle(run, policy, life -> new TrainerSource(life, run, policy, first, continued));
  }

  /**
   * A script's run, its diagnosis as {@code policy} has it (fresh, or rebuilt from its history after a restart);
   * {@code resumed}: a person resumed it after it ended, and it runs again as it starts.
   */
  static RunLifecycle script(Run run, RunPolicy policy, boolean resumed) {
    return new RunLifecycle(run, policy, life -> new ScriptSource(life, run, policy, resumed));
  }

  @Override
  public Future<?> start() {
    var commands = vertx.eventBus().<RunCommand>consumer(Events.commands(run.id()), this::onCommand);
    var written = vertx.eventBus().<Written>localConsumer(Events.written(run.id()), m -> onWritten(m.body()));
    return Future.all(commands.completion(), written.completion()).compose(v -> source.start());
  }

  @Override
  public Future<?> stop() {
    undeployed = true;   // timers and consumers go with the deployment; queued work sees this flag
    source.halt();
    source.stop();
    return Future.succeededFuture();
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public Context context() {
    return context;
  }

  @Override
  public RunState state() {
    return state;
  }

  @Override
  public boolean mayStep() {
    return !undeployed && state == RunState.RUNNING && ending == null && rewindAt < 0
        && run.history().unwritten() < RunHistory.MAX_UNWRITTEN;
  }

  @Override
  public boolean storageFault() {
    return storageFault;
  }

  // ---- what a source tells its lifecycle

  @Override
  public void running() {
    if (state != RunState.RUNNING) changeState(RunState.RUNNING);
  }

  @Override
  public void position(long step, double loss, double lr, double gradNorm) {
    this.step = step;
    this.loss = loss;
    this.lr = lr;
    this.gradNorm = gradNorm;
    rateNanos = System.nanoTime();
    rateStep = step;
    rate = 0;
  }

  @Override
  public void curvature(boolean preconditioned, double threshold) {
    boolean news = preconditioned != this.preconditioned || Double.compare(threshold, this.threshold) != 0;
    this.preconditioned = preconditioned;
    this.threshold = threshold;
    if (news && curvature != null) {   // what the measurements are changed: say so (run.json keeps it)
      curvature = new RunSummary.Curvature(curvature.step(), curvature.sharpness(),
          Double.isNaN(threshold) ? curvature.threshold() : threshold, curvature.stability(), preconditioned);
      publish();
    }
  }

  /** The last measurement of {@code b}, if it has one, is the run's curvature now (told at once if the first). */
  private void measured(StepBatch b) {
    int m = b.lastMeasured();
    if (m < 0) return;
    boolean first = curvature == null;
    double sharpness = b.sharpness()[m];
    double stability = b.stability()[m];
    double t = threshold;
    if (Double.isNaN(t) && stability != 0 && Double.isFinite(stability)) t = b.lr()[m] * sharpness / stability;
    curvature = new RunSummary.Curvature(b.step()[m], sharpness, t, stability, preconditioned);
    firstMeasured = first;
  }

  /** Steps taken: into the history (before anyone hears of them, so whoever does finds them there), then told. */
  @Override
  public void took(StepBatch b) {
    run.history().append(b);
    for (double l : b.loss()) {
      if (l < bestLoss || Double.isNaN(bestLoss)) bestLoss = l;
    }
    int last = b.size() - 1;
    measured(b);
    position(b.lastStep(), b.loss()[last], b.lr()[last], b.gradNorm()[last], false);
    run.summary(summary(state));
    Events.publish(vertx.eventBus(), b);
    if (firstMeasured) {   // the first measurement: what it is goes to run.json (a restart reads the later ones' values from the log)
      firstMeasured = false;
      publish();
    }
  }

  private void position(long step, double loss, double lr, double gradNorm, boolean afresh) {
    if (afresh) {
      position(step, loss, lr, gradNorm);
      return;
    }
    this.step = step;
    this.loss = loss;
    this.lr = lr;
    this.gradNorm = gradNorm;
    long now = System.nanoTime();
    if (now - rateNanos >= 1_000_000_000L || (rate == 0 && now - rateNanos >= 100_000_000L)) {
      rate = (step - rateStep) * 1e9 / (now - rateNanos);
      rateNanos = now;
      rateStep = step;
    }
  }

  /** A script said it is alive (an append without new steps): the stall watch sees it. */
  @Override
  public void touched() {
    run.summary(summary(state));
  }

  /**
   * After a batch of steps: the diagnosis if it changed (a built-in run's once its advice is proven), or its refreshed
   * text (at most once per {@link #REFRESH_NANOS}), the alert it calls for (one per episode), and a checkpoint when
   * one is due.
   */
  @Override
  public void observed() {
    if (policy.news() == Diagnoser.Change.CHANGED) {
      if (!policy.proving()) announce();
    } else if (policy.news() == Diagnoser.Change.REFRESHED && System.nanoTime() - refreshedNanos >= REFRESH_NANOS) {
      policy.told();
      refreshedNanos = System.nanoTime();
      publish();
    }
    raiseAlert();
    if (System.nanoTime() - checkpointNanos >= CHECKPOINT_NANOS) checkpoint();
  }

  /** Tells everyone the diagnosis as it stands now, and raises the alert it calls for. */
  @Override
  public void announce() {
    policy.told();
    refreshedNanos = System.nanoTime();
    raiseAlert();
    publish();
  }

  /** The alert the diagnosis calls for now, if any: the policy says which, once per episode (none for a range test). */
  private void raiseAlert() {
    Alert.Kind kind = policy.alert(step);
    if (kind != null) alert(kind, policy.shown());
  }

  /** The lr changed from step {@code at} on: recorded, and the diagnosis looks afresh (its episode goes on). */
  @Override
  public void lrChanged(long at, double from, double to, String cause) {
    policy.lrChanged(at, from, to, cause);
    lrChanges.add(new LrChange(at, from, to, cause));
    if (lrChanges.size() > MAX_LR_CHANGES) lrChanges.remove(0);
    checkpoint();   // a resume must not go on with the old lr
  }

  /**
   * The guard fired at step {@code at} ({@code why}): the run goes back as soon as every step so far is on disk, so
   * the log can be cut back with its history; it takes no step meanwhile.
   */
  @Override
  public void rewindDue(long at, String why) {
    rewindAt = at;
    rewindWhy = why;
    if (run.history().unwritten() == 0) rewind();
  }

  private void rewind() {
    long at = rewindAt;
    rewindAt = -1;
    source.rewind(policy.rewindTo(at), policy.rewindFactor(), rewindWhy);
    if (state == RunState.RUNNING) source.go();
  }

  /**
   * The run went back from step {@code at} to its state after step {@code to} (every step before is on disk by
   * now): its history keeps the steps after it apart (on disk too) and starts a new cycle, so every subscriber
   * reads the run as it now stands; the lr changes made after it are undone with its steps.
   */
  @Override
  public void rewound(long at, long to, double lrBefore, double lrAfter, String why, int cycle) {
    StepBatch abandoned = run.history().rewind(to, cycle);
    rewinds.add(new Rewind(at, to, lrBefore, lrAfter, why));
    Events.publish(vertx.eventBus(), new Rewound(run.id(), rewinds.size(), to, abandoned));
    lrChanges.removeIf(c -> c.step() > to);
    lrChanged(to + 1, lrBefore, lrAfter, "rewind");
    alert(Alert.Kind.REWOUND, "rewound at step " + at + " (" + why + ") to step " + to + ", lr " + RunPolicy.fmt(lrBefore)
        + " → " + RunPolicy.fmt(lrAfter) + " (rewind " + rewinds.size() + " of " + policy.maxRewinds() + ")", lrAfter);
    publish();
  }

  /** The guard fired at step {@code at} and the script could not go back ({@code why}): said, and the run goes on. */
  @Override
  public void notRewound(long at, String why) {
    alert(Alert.Kind.REWOUND, "not rewound: its guard fired at step " + at + " but the script could not go back (" + why
        + "); the run goes on as it is", Double.NaN);
  }

  /** The guard fired once more than it may at step {@code at} ({@code why}): the run ends diverged, and says why. */
  @Override
  public void guardEnded(long at, String why) {
    alert(Alert.Kind.REWOUND, "not rewound again at step " + at + " (" + why + "): " + rewinds.size()
        + " rewinds, the most its guard allows; the run ends as diverged", Double.NaN);
  }

  /** The run reached its end: it takes that state once its last step is on disk ({@code why} shows as its reason). */
  @Override
  public void finish(RunState end, String why) {
    failure = why;
    checkpoint();
    source.halt();
    if (run.history().unwritten() > 0) ending = end;
    else end(end);
  }

  /** The runs that ended: in {@link #DEMO_RESTART_MS}, a demo run starts over. */
  private void end(RunState end) {
    ending = null;
    changeState(end);
    if (run.demo() && !undeployed) {
      restartTimer = vertx.setTimer(DEMO_RESTART_MS, id -> {
        restartTimer = -1;
        run.startOver();
        bestLoss = Double.NaN;
        policy.startOver();
        lrChanges.clear();
        source.start();
      });
    }
  }

  /** Takes state {@code s}, as {@link RunState}'s table allows (anything else is a bug here, not a user's error). */
  private void changeState(RunState s) {
    if (!state.canBecome(s)) throw new IllegalStateException("run " + run.id() + ": " + state.label() + " → " + s.label());
    state = s;
    if (!s.isLive()) {
      policy.end(step, s.label());   // no advice for a run that cannot change
      rewindAt = -1;
    }
    publish();
    if (!s.isLive()) source.ended(s);
    retire();
  }

  /** An ended run that is all on disk keeps only its summary: no memory window, no verticle. */
  @Override
  public void retire() {
    if (run.demo() || undeployed || state.isLive() || run.history().unwritten() > 0 || source.holding()) return;
    run.history().release();
    undeployed = true;
    vertx.undeploy(context.deploymentID());
  }

  /** Sends the source's exact state to the store (after the batch that holds its step), for a resume. */
  @Override
  public void checkpoint() {
    checkpointNanos = System.nanoTime();
    if (!run.history().persistent()) return;
    State s = source.state();
    if (s != null) Events.publish(vertx.eventBus(), new Checkpoint(run.id(), s.integer("step"), s));
  }

  /** The current summary, kept and told to everyone. */
  void publish() {
    RunSummary s = summary(state);
    run.summary(s);
    Events.publish(vertx.eventBus(), s);
  }

  private RunSummary summary(RunState s) {
    RunSummary old = run.summary();
    return new RunSummary(run.id(), run.spec(), s, run.cycle(), step, loss, lr, gradNorm, bestLoss,
        s == RunState.RUNNING ? rate : 0, old.created(), System.currentTimeMillis(), policy.shown(),
        List.copyOf(lrChanges), reason(s), old.parent(), old.branchedAt(), List.copyOf(rewinds), curvature,
        policy.report());
  }

  /** The reason shown with the state: storage, while the run is paused for it; a failed script's message. */
  private String reason(RunState s) {
    if (s == RunState.FAILED) return failure;
    return storageFault && s == RunState.PAUSED ? RunSummary.STORAGE : null;
  }

  private void alert(Alert.Kind kind, Diagnosis d) {
    alert(kind, d.verdict().label() + " since step " + d.sinceStep() + ": " + d.evidence()
        + (d.advice() == null ? "" : ". Advice: " + d.advice()), d.suggestedLr());
  }

  private void alert(Alert.Kind kind, String what, double suggestedLr) {
    Events.publish(vertx.eventBus(), new Alert(run.id(), run.spec().name(), kind, step,
        run.spec().name() + ": " + what, suggestedLr, System.currentTimeMillis()));
  }

  // ---- the store's pace

  /**
   * The store's word on how far the steps are on disk: frees the memory they held, lets the source go on (a
   * script's appends are answered once what they need is on disk), ends a run that waited for its last step; a
   * failed write pauses the run until the store catches up.
   */
  private void onWritten(Written w) {
    RunHistory h = run.history();
    h.persisted(w.records());
    if (w.failed()) {
      if (!storageFault) storagePause(w);
      source.written(w);
      return;
    }
    if (storageFault && h.unwritten() == 0) storageResume();
    if (rewindAt >= 0 && h.unwritten() == 0 && state.isLive()) rewind();   // paused meanwhile: it stays paused
    source.written(w);
    if (h.unwritten() > 0 || undeployed) return;
    if (ending != null && state.isLive()) end(ending);
    else if (!state.isLive()) retire();
  }

  private void storagePause(Written w) {
    storageFault = true;
    if (state == RunState.RUNNING) {
      source.halt();
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
      source.go();
    } else if (state == RunState.PAUSED) {
      changeState(RunState.PAUSED);   // paused by a person: it stays so, without the reason
    }
  }

  // ---- commands

  private void onCommand(Message<RunCommand> m) {
    RunCommand c = m.body();
    try {
      if (c.kind() == RunCommand.Kind.BRANCH) {
        m.reply(fork(c.step()));
        return;
      }
      command(c);
      m.reply(run.summary());
    } catch (RunRefusal r) {
      r.fail(m);
    }
  }

  private void command(RunCommand c) {
    switch (c.kind()) {
      case SET_LR, APPLY_ADVICE -> {
        if (!state.isLive()) throw refusal("cannot change the lr");
        Diagnosis d = policy.shown();
        boolean advice = c.kind() == RunCommand.Kind.APPLY_ADVICE;
        if (advice && !d.hasAdvice()) {
          throw RunRefusal.of(RunRefusal.Kind.CONFLICT, "run " + run.id() + " has no advice to apply (" + d.verdict().label() + ")");
        }
        if (advice && !RunPolicy.settable(d.suggestedLr())) {   // as /lr would refuse it
          throw RunRefusal.of(RunRefusal.Kind.CONFLICT, "run " + run.id() + " has no advice to apply: its suggested lr "
              + d.suggestedLr() + " is no lr to set (an lr must be > 0)");
        }
        source.setLr(advice ? d.suggestedLr() : c.lr(), advice ? "advice" : "set");
        announce();
      }
      case PAUSE -> {
        if (state == RunState.PAUSED && pausedForStorage) {
          pausedForStorage = false;   // paused for storage, and now by a person too: it stays paused after
        } else if (state != RunState.RUNNING || ending != null) {
          throw refusal(ending != null ? "cannot pause: it took its last step" : "cannot pause");
        } else {
          source.halt();
          changeState(RunState.PAUSED);
          source.commanded(c.kind());
          checkpoint();   // paused here: a resume after a restart goes on from here
        }
      }
      case RESUME -> {
        if (run.spec().external() && state == RunState.INTERRUPTED) {   // a person takes it on before its script does
          changeState(RunState.RUNNING);
          return;
        }
        if (run.spec().external() && !state.isLive()) {
          throw RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id() + " is " + state.label() + " and letting go of"
              + " its steps now; resume it again in a moment");
        }
        if (state != RunState.PAUSED || storageFault) {
          throw refusal(storageFault ? "cannot resume while its steps cannot be written (storage); it resumes by"
              + " itself once they are" : "cannot resume");
        }
        changeState(RunState.RUNNING);
        source.commanded(c.kind());
        source.go();
      }
      case STOP -> stopByPerson();
      case DESCRIBE -> publish();   // its spec's tags and notes changed: every summary from here on says so
      case BRANCH -> throw new IllegalArgumentException("a branch is answered with a fork");
    }
  }

  /** A person stops the run: it ends here (a demo run waiting to start over does not start over). */
  private void stopByPerson() {
    if (restartTimer != -1) {
      vertx.cancelTimer(restartTimer);
      restartTimer = -1;
      return;
    }
    // a script's run a restart interrupted has its verticle (its script may come back): it can be stopped too
    if (!state.isLive() && state != RunState.INTERRUPTED) throw refusal("cannot stop");
    source.halt();
    checkpoint();
    ending = null;
    pausedForStorage = false;
    source.commanded(RunCommand.Kind.STOP);
    changeState(RunState.STOPPED);
  }

  private Fork fork(long at) {
    if (!state.isLive()) throw refusal("cannot be branched while it is not running or paused");
    return source.fork(at);
  }

  @Override
  public RunRefusal refusal(String what) {
    return RunRefusal.of(RunRefusal.Kind.CONFLICT, "run " + run.id() + " is " + state.label() + ": " + what);
  }
}
