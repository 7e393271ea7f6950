package io.losswatch.train;

import io.losswatch.core.diagnosis.Diagnoser;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.Alert;
import io.losswatch.event.Events;
import io.losswatch.event.LrChange;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.event.Written;
import io.losswatch.history.RunHistory;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Filter;
import java.util.logging.Logger;

/**
 * What every run's verticle does, however its steps come (trained here, or sent by a script): it owns the run's
 * state, diagnosis, alerts and learning-rate changes on its own event loop, takes commands as messages, and
 * keeps pace with the store. A persisted run never gets more than {@link RunHistory#MAX_UNWRITTEN} steps ahead
 * of its log (it waits for the store's {@link Written} word), takes its end state only once its last step is on
 * disk, and pauses (reason {@code storage}, one alert) while its steps cannot be written, resuming by itself
 * when they can. An ended run that is all on disk keeps only its summary: its verticle goes away.
 */
abstract class RunOwner extends VerticleBase {
  /** A too_slow verdict that lasts this many steps becomes an alert. */
  static final int SLOW_ALERT_STEPS = 200;
  /** A diagnosis whose text was merely refreshed is told at most this often (news is told at once). */
  static final long REFRESH_NANOS = 1_000_000_000L;
  /** A run read back from disk replays its first steps (its scale) and its last ones into its diagnoser. */
  static final int REPLAY_HEAD = 100;
  static final int REPLAY_TAIL = 400;
  private static final Set<Verdict> ACTIONABLE = EnumSet.of(Verdict.TOO_SLOW, Verdict.OSCILLATING, Verdict.DIVERGING);
  /**
   * The store's word can reach a run's {@code written} consumer as the run goes away (deleted, or the server
   * stopping), and Vert.x then logs "Discarding message since the consumer is not registered" for each: a race
   * with nothing lost (a gone run waits for nothing), so those lines are dropped; any other stays. Held here:
   * the logging framework keeps loggers weakly.
   */
  private static final Logger CONSUMERS = Logger.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");

  static {
    Filter before = CONSUMERS.getFilter();
    CONSUMERS.setFilter(r -> !(r.getMessage() != null && r.getMessage().startsWith("Discarding message since the consumer is"
        + " not registered") && r.getMessage().endsWith(".written")) && (before == null || before.isLoggable(r)));
  }

  final Run run;
  final Diagnoser diagnoser = new Diagnoser();
  final List<LrChange> lrChanges = new ArrayList<>();
  RunState state;
  double bestLoss = Double.NaN;
  boolean undeployed;
  /** The state the run reached, held until its last step is on disk. */
  RunState ending;
  /** Whether the store reported a failed write it has not yet caught up with. */
  boolean storageFault;
  /** Whether this run paused itself for that fault (and so resumes by itself after it). */
  private boolean pausedForStorage;
  /** What the steps since the last announcement did to the diagnosis. */
  private Diagnoser.Change diagnosisChange = Diagnoser.Change.NONE;
  private long refreshedNanos = System.nanoTime() - REFRESH_NANOS;
  private long lastAutoStep = Long.MIN_VALUE / 2;
  private long slowAlertedSince = -1;

  RunOwner(Run run) {
    this.run = run;
    this.state = run.summary().state();
  }

  @Override
  public Future<?> start() {
    var commands = vertx.eventBus().<RunCommand>consumer(Events.commands(run.id()), this::onCommand);
    var written = vertx.eventBus().<Written>localConsumer(Events.written(run.id()), m -> onWritten(m.body()));
    return Future.all(commands.completion(), written.completion()).compose(v -> started());
  }

  @Override
  public Future<?> stop() {
    undeployed = true;   // timers and consumers go with the deployment; queued work sees this flag
    return Future.succeededFuture();
  }

  /** The consumers are in place: steps may come. */
  abstract Future<?> started();

  /** The run's summary now, in state {@code s}. */
  abstract RunSummary summary(RunState s);

  /** Stop taking steps (a pause, a stop, a storage fault). */
  abstract void halt();

  /** Take steps again (a resume, or the store caught up). */
  abstract void proceed();

  /** The store wrote more: a run that waited on it may go on. */
  abstract void written();

  /** Use {@code lr} from the next step on; {@code cause} says who asked: set, advice, auto. */
  abstract void setLr(double lr, String cause);

  /** A person paused, resumed or stopped the run (a script elsewhere has to hear of it). */
  void commanded(RunCommand.Kind kind) {
  }

  /** Whether a run that ended can still be stopped (a demo run waiting to start over can). */
  boolean stoppable() {
    return state.isLive();
  }

  /** The run took the state it ended in. */
  void ended(RunState end) {
  }

  /** The reason shown with the state: storage, while the run is paused for it. */
  String reason(RunState s) {
    return storageFault && s == RunState.PAUSED ? RunSummary.STORAGE : null;
  }

  /** The diagnosis shown: the diagnoser's (a built-in run's proves its advice first). */
  Diagnosis diagnosis() {
    return diagnoser.current();
  }

  /** Whether advice is being proven: the diagnosis is told once it is. */
  boolean proving() {
    return false;
  }

  /** Whether auto_lr follows the diagnoser's advice unproven (a script's run, which cannot be forked). */
  boolean autoUnproven() {
    return true;
  }

  /** Whether {@code lr} is one a run may be set to (what {@code POST /lr} takes): finite and positive. */
  static boolean settable(double lr) {
    return lr > 0 && Double.isFinite(lr);
  }

  /** Feeds one step to the diagnoser; with auto_lr, follows its advice at most once a window. */
  void observe(long step, double loss, double lr, double gradNorm, double cosine, double efficiency) {
    if (loss < bestLoss || Double.isNaN(bestLoss)) bestLoss = loss;
    Diagnoser.Change c = diagnoser.observe(step, loss, lr, gradNorm, cosine, efficiency);
    if (c.compareTo(diagnosisChange) > 0) diagnosisChange = c;
    Diagnosis d = diagnosis();
    if (run.spec().autoLr() && autoUnproven() && settable(d.suggestedLr()) && ACTIONABLE.contains(d.verdict())
        && step - lastAutoStep >= Diagnoser.WINDOW) {
      lastAutoStep = step;
      setLr(d.suggestedLr(), "auto");
    }
  }

  /**
   * After a batch of steps up to {@code step}: the diagnosis if it changed (with its alerts), or its refreshed
   * text (no alert; at most once per {@link #REFRESH_NANOS}), and a lasting too_slow.
   */
  void observed(long step) {
    if (diagnosisChange == Diagnoser.Change.CHANGED) {
      if (!proving()) announceDiagnosis();   // a built-in run tells it once its advice is proven
    } else if (diagnosisChange == Diagnoser.Change.REFRESHED && System.nanoTime() - refreshedNanos >= REFRESH_NANOS) {
      diagnosisChange = Diagnoser.Change.NONE;
      refreshedNanos = System.nanoTime();
      publish();
    }
    Diagnosis d = diagnosis();
    if (d.verdict() != Verdict.TOO_SLOW || slowAlertedSince == d.sinceStep() || run.spec().rangeTest()) return;
    if (step - d.sinceStep() >= SLOW_ALERT_STEPS) {
      slowAlertedSince = d.sinceStep();
      alert(Alert.Kind.TOO_SLOW, d);
    }
  }

  /** The lr changed: the diagnosis starts afresh, and the change is recorded from {@code step} on. */
  void lrChanged(long step, double from, double to, String cause) {
    diagnoser.reset();
    diagnosisChange = Diagnoser.Change.CHANGED;
    lrChanges.add(new LrChange(step, from, to, cause));
    if (lrChanges.size() > 100) lrChanges.remove(0);
  }

  /** Starts a cycle afresh (a demo run starting over). */
  void reset() {
    bestLoss = Double.NaN;
    diagnoser.startOver();
    lrChanges.clear();
    slowAlertedSince = -1;
  }

  /** Tells everyone the new diagnosis, and raises the alerts it calls for. */
  void announceDiagnosis() {
    diagnosisChange = Diagnoser.Change.NONE;
    refreshedNanos = System.nanoTime();
    Diagnosis d = diagnosis();
    if (!run.spec().rangeTest()) {   // a range test blows its loss up on purpose
      switch (d.verdict()) {
        case DIVERGING -> alert(Alert.Kind.DIVERGING, d);
        case NON_FINITE -> alert(Alert.Kind.NON_FINITE, d);
        default -> { }
      }
    }
    publish();
  }

  /** The current summary, kept and told to everyone. */
  void publish() {
    RunSummary s = summary(state);
    run.summary(s);
    vertx.eventBus().publish(Events.RUNS, s, Events.LOCAL);
  }

  private void alert(Alert.Kind kind, Diagnosis d) {
    alert(kind, d.verdict().label() + " since step " + d.sinceStep() + ": " + d.evidence()
        + (d.advice() == null ? "" : ". Advice: " + d.advice()), d.suggestedLr());
  }

  void alert(Alert.Kind kind, String what, double suggestedLr) {
    vertx.eventBus().publish(Events.RUNS, new Alert(run.id(), run.spec().name(), kind, run.summary().step(),
        run.spec().name() + ": " + what, suggestedLr, System.currentTimeMillis()), Events.LOCAL);
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
    else written();
  }

  private void storagePause(Written w) {
    storageFault = true;
    if (state == RunState.RUNNING) {
      halt();
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
      proceed();
    } else if (state == RunState.PAUSED) {
      changeState(RunState.PAUSED);   // paused by a person: it stays so, without the reason
    }
  }

  /** The run reached its end: it takes that state once its last step is on disk. */
  void finish(RunState end) {
    halt();
    if (run.history().unwritten() > 0) ending = end;
    else end(end);
  }

  private void end(RunState end) {
    ending = null;
    changeState(end);
    ended(end);
  }

  /** Takes state {@code s}, as {@link RunState}'s table allows (anything else is a bug here, not a user's error). */
  void changeState(RunState s) {
    if (!state.canBecome(s)) throw new IllegalStateException("run " + run.id() + ": " + state.label() + " → " + s.label());
    state = s;
    if (!s.isLive()) diagnoser.end(run.history().lastStep(), s.label());   // no advice for a run that cannot change
    publish();
    if (!s.isLive() && run.history().unwritten() == 0) retire();
  }

  /**
   * Replays what a run read back from disk left in its history into {@code d} (geometry unknown): its first
   * {@link #REPLAY_HEAD} steps, for its scale (its first loss, its largest gradient), then its last
   * {@link #REPLAY_TAIL}. Reads the disk: cheap (a few hundred records, mapped), yet best off the event loop.
   */
  static void replay(Diagnoser d, RunHistory h) {
    long last = Long.MIN_VALUE;
    for (StepBatch b : List.of(h.head(Long.MIN_VALUE, REPLAY_HEAD), h.tail(REPLAY_TAIL))) {
      for (int i = 0; i < b.size(); i++) {
        if (b.step()[i] <= last) continue;   // a short run: the tail overlaps the head
        last = b.step()[i];
        d.observe(last, b.loss()[i], b.lr()[i], b.gradNorm()[i], Double.NaN, Double.NaN);
      }
    }
  }

  /** Whether an ended run may go now (an external run waits until its script heard it was stopped). */
  boolean retirable() {
    return true;
  }

  /** An ended run that is all on disk keeps only its summary: no memory window, no verticle. */
  void retire() {
    if (run.demo() || undeployed || state.isLive() || run.history().unwritten() > 0 || !retirable()) return;
    run.history().release();
    undeployed = true;
    vertx.undeploy(context.deploymentID());
  }

  private void onCommand(Message<RunCommand> m) {
    RunCommand c = m.body();
    switch (c.kind()) {
      case SET_LR, APPLY_ADVICE -> {
        if (!state.isLive()) {
          refuse(m, "cannot change the lr");
          return;
        }
        Diagnosis d = diagnosis();
        if (c.kind() == RunCommand.Kind.APPLY_ADVICE && !d.hasAdvice()) {
          m.fail(409, "run " + run.id() + " has no advice to apply (" + d.verdict().label() + ")");
          return;
        }
        if (c.kind() == RunCommand.Kind.APPLY_ADVICE && !settable(d.suggestedLr())) {   // as /lr would refuse it
          m.fail(409, "run " + run.id() + " has no advice to apply: its suggested lr " + d.suggestedLr()
              + " is no lr to set (an lr must be > 0)");
          return;
        }
        setLr(c.kind() == RunCommand.Kind.SET_LR ? c.lr() : d.suggestedLr(),
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
          halt();
          changeState(RunState.PAUSED);
          commanded(c.kind());
        }
      }
      case RESUME -> {
        if (state != RunState.PAUSED || storageFault) {
          refuse(m, storageFault ? "cannot resume while its steps cannot be written (storage); it resumes by itself"
              + " once they are" : "cannot resume");
          return;
        }
        changeState(RunState.RUNNING);
        commanded(c.kind());
        proceed();
      }
      case BRANCH -> {
        fork(m, c.step());
        return;
      }
      case STOP -> {
        if (!stoppable()) {
          refuse(m, "cannot stop");
          return;
        }
        halt();
        ending = null;
        pausedForStorage = false;
        commanded(c.kind());
        changeState(RunState.STOPPED);
      }
    }
    m.reply(run.summary());
  }

  /** Replies with a {@link io.losswatch.event.Fork} of the run at {@code step} (-1: now), or fails. */
  void fork(Message<RunCommand> m, long step) {
    m.fail(409, "run " + run.id() + " is trained elsewhere: it can't be branched here");
  }

  void refuse(Message<?> m, String what) {
    m.fail(409, "run " + run.id() + " is " + state.label() + ": " + what);
  }
}
