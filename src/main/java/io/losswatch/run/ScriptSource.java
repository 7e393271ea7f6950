package io.losswatch.run;

import io.losswatch.core.diagnosis.FailedLrs;
import io.losswatch.core.state.State;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Events;
import io.losswatch.event.Finish;
import io.losswatch.event.Fork;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunRefusal;
import io.losswatch.event.RunState;
import io.losswatch.event.StepBatch;
import io.losswatch.event.Written;
import io.losswatch.history.RunHistory;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A script's run: a training loop elsewhere appends its steps, this source hands them to the lifecycle as a trainer's
 * are handed, and answers each append with what the loop must do ({@link ScriptCommands}): the lifecycle's decisions,
 * carried out by the script, which acknowledges each with the step it took effect at.
 *
 * <p>Answered means stored: an append's answer waits until the store's word says every step the run held when it
 * took the append is written, so a stop, a kill or a disk that fills later never loses a step a script was told is
 * kept (the script keeps each step until then). While the run is a window ahead of the store, appends wait (a few;
 * more are refused as busy); while the store cannot write, they are refused as {@code storage} at once, those
 * waiting too, and the script sends them again.
 *
 * <p>Each step goes through the run's {@link io.losswatch.core.policy.ScriptPolicy}, whose decisions become commands:
 * an lr (auto_lr), a {@code probe} (look-ahead on the script's model; its acknowledgement carries the branches'
 * losses), a {@code rewind} (the guard), a {@code stop} with reason {@code diverged} (the guard out of rewinds). A
 * guarded script's appends say their cycle: the first acknowledgement of an append of a new cycle is its rewind's, the
 * step it went back to, and the run goes back there too (the steps after it kept apart, once every step before is on
 * disk); an append of an older cycle (steps in flight from before the rewind) is dropped.
 */
final class ScriptSource implements StepSource {
  /** Appends held while the store catches up; more are refused (busy) for the script to send again. */
  static final int MAX_WAITING = 8;

  private final Lifecycle life;
  private final Run run;
  private final RunPolicy policy;
  private final ScriptCommands commands = new ScriptCommands();
  /** Appends not taken yet: the run is a window ahead of the store. */
  private final ArrayDeque<Message<Append>> waiting = new ArrayDeque<>();
  /** Appends taken, answered once the store holds {@link Taken#records} records. */
  private final ArrayDeque<Taken> unanswered = new ArrayDeque<>();
  /** The lr the script uses now, as far as the run knows. */
  private double scriptLr;
  /** Whether the script heard the stop the run sent it (a person's, or the guard's out of rewinds). */
  private boolean stopHeard;
  /** Whether the guard ended the run (no more decisions for the steps still coming). */
  private boolean guardEnded;
  /** A run a person resumed after it ended: it runs again as its verticle starts. */
  private final boolean resumed;
  /** Finishes answered once the run's last step is on disk and it took its end state (a script may ask twice). */
  private final List<Message<Finish>> finishing = new ArrayList<>();

  private record Taken(Message<Append> m, long accepted, long duplicates, long skipped, long lastStep, long records) {
  }

  ScriptSource(Lifecycle life, Run run, RunPolicy policy, boolean resumed) {
    this.life = life;
    this.run = run;
    this.policy = policy;
    this.resumed = resumed;
    double lr = run.summary().lr();
    scriptLr = Double.isNaN(lr) ? run.spec().lr() : lr;
  }

  @Override
  public Future<?> start() {
    var bus = life.vertx().eventBus();
    var appends = bus.<Append>consumer(Events.append(run.id()), this::offer);
    var finishes = bus.<Finish>consumer(Events.finish(run.id()), this::finish);
    return Future.all(appends.completion(), finishes.completion()).onSuccess(v -> {
      if (life.state() == RunState.CREATED || resumed && !life.state().isLive()) life.running();   // its script is running
    });
  }

  /** An append: taken now, held while the store catches up, or refused. */
  private void offer(Message<Append> m) {
    RunRefusal no = refusal();
    if (no != null) {
      no.fail(m);
    } else if (mustWait(m.body()) || !waiting.isEmpty()) {
      if (waiting.size() < MAX_WAITING) waiting.add(m);   // taken once the store caught up
      else RunRefusal.of(RunRefusal.Kind.BUSY, "busy: run " + run.id() + " is writing what it has; send this again later").fail(m);
    } else {
      takeOrRefuse(m);
    }
  }

  /** Why the run takes no append now (it ended, or its store cannot write), or null. */
  private RunRefusal refusal() {
    RunState state = life.state();
    if (!state.isLive() && state != RunState.INTERRUPTED && !holding()) {
      return RunRefusal.isEnd(state) ? RunRefusal.ended(run.id(), state, "it takes no more steps") : life.refusal("it takes no steps");
    }
    return life.storageFault() ? storage() : null;
  }

  /** Whether the run is a window ahead of its store: appends wait. */
  private boolean behind() {
    return run.history().unwritten() >= RunHistory.MAX_UNWRITTEN;
  }

  /**
   * Whether {@code a} waits for the store: the run is a window ahead of it, or {@code a} begins a new cycle (a rewind)
   * while steps before it are not yet on disk (the log is cut back with the history).
   */
  private boolean mustWait(Append a) {
    return behind() || a.cycle() > run.cycle() && run.history().unwritten() > 0;
  }

  private void takeOrRefuse(Message<Append> m) {
    try {
      take(m);
    } catch (RunRefusal r) {
      r.fail(m);
    }
  }

  /**
   * Takes what the script applied and the steps it did not send before, each through the run's policy. The metrics'
   * cap is checked here, as the append is taken, so appends waiting together cannot pass it together.
   */
  private void take(Message<Append> m) {
    Append a = m.body();
    StepBatch b = a.steps();
    if (a.cycle() >= 0 && a.cycle() < run.cycle()) {
      stale(m, a);
      return;
    }
    boolean rewound = a.cycle() > run.cycle();
    if (rewound && a.acks().isEmpty()) {
      throw RunRefusal.invalid("cycle", "an append of a new cycle (" + a.cycle() + "; the run is in cycle " + run.cycle()
          + ") begins with the acknowledgement of the rewind that began it");
    }
    List<String> names = run.history().metrics();
    List<String> added = b.metrics().keySet().stream().filter(n -> !names.contains(n)).toList();
    if (names.size() + added.size() > Run.MAX_METRICS) {
      throw RunRefusal.invalid("metrics." + added.get(Math.max(0, Run.MAX_METRICS - names.size())), "a run has at most "
          + Run.MAX_METRICS + " metrics; it has " + names.size() + ", and this append adds " + added.size() + " more");
    }
    if (rewound) rewind(a);
    acknowledged(a, rewound ? 1 : 0);
    if (a.curvature() != null) life.curvature(a.curvature().preconditioned(), a.curvature().threshold());
    long last = run.history().lastStep();
    int from = 0;
    while (from < b.size() && b.step()[from] <= last) from++;
    long held = run.history().held(b.step(), from);
    if (from < b.size()) {
      StepBatch fresh = b.from(from);
      if (fresh.cycle() != run.cycle()) fresh = fresh.withCycle(run.cycle());
      if (life.state() == RunState.INTERRUPTED) life.running();   // its script came back
      long divergedAt = -1;
      for (int i = 0; i < fresh.size(); i++) {
        if (!Double.isNaN(fresh.lr()[i])) scriptLr = fresh.lr()[i];
        if (guardEnded || !life.state().isLive()) continue;   // steps in flight after the run ended: kept, not judged
        long step = fresh.step()[i];
        double stability = fresh.stability() == null ? Double.NaN : fresh.stability()[i];
        switch (policy.afterScriptStep(step, fresh.loss()[i], fresh.lr()[i], fresh.gradNorm()[i], stability)) {
          case PROBE -> commands.probe(policy.script().probeFactors(), policy.script().probeHorizon());
          case SET_LR -> setLr(policy.script().autoLr(), "auto");
          case REWIND -> commands.rewind(step, policy.script().rewindTo(), policy.script().rewindFactor(), scriptLr,
              policy.trigger());
          case DIVERGED -> {
            guardEnded = true;
            divergedAt = step;
          }
          case STEP -> { }
        }
      }
      if (!life.state().isLive()) policy.endedAt(fresh.lastStep());   // kept after the end: its text names them
      life.took(fresh);
      if (divergedAt >= 0) {
        // out of rewinds: the script is told to stop (reason diverged), and the run ends so once its steps are stored
        life.guardEnded(divergedAt, policy.trigger());
        commands.stop("diverged");
        life.finish(RunState.DIVERGED, null);
      }
    } else {
      life.touched();
    }
    life.observed();
    RunHistory h = run.history();
    answer(new Taken(m, b.size() - from, held, from - held, h.lastStep(), h.records()));
    if (stopHeard) life.retire();
  }

  /**
   * An append of a cycle before the run's: steps the script sent before it went back, now undone — dropped (none
   * accepted); the commands it acknowledges are not asked again.
   */
  private void stale(Message<Append> m, Append a) {
    for (Append.Ack ack : a.acks()) {
      ScriptCommands.Sent c = commands.acknowledged(ack.id());
      if (c != null && c.command().op().equals("stop")) stopHeard = true;
    }
    life.touched();
    RunHistory h = run.history();
    answer(new Taken(m, 0, 0, a.steps().size(), h.lastStep(), h.records()));
    if (stopHeard) life.retire();
  }

  /**
   * The script went back (its rewind's acknowledgement begins the append of its new cycle): to the step it names,
   * which the run goes back to as well — every step before is on disk, the log is cut back, the steps after it are
   * kept apart — with the lr the script now reports (else the old one × the guard's factor). A rewind the run
   * asked before a restart, whose command it no longer knows, is taken all the same: the cycle says it happened.
   */
  private void rewind(Append a) {
    Append.Ack ack = a.acks().get(0);
    long at = run.history().lastStep();
    if (ack.step() > at) {
      throw RunRefusal.invalid("acks[0].step", "a rewind goes back to a step the run has (its last is " + at + "), got "
          + ack.step());
    }
    ScriptCommands.Sent sent = commands.acknowledged(ack.id());
    String why = sent != null && sent.command().op().equals("rewind") && sent.cause() != null ? sent.cause() : "guard";
    double factor = sent != null && sent.command().op().equals("rewind") ? sent.command().factor() : policy.rewindFactor();
    StepBatch b = a.steps();
    // the lr in force when the guard fired (the script reports the new lr at the step it applied the rewind)
    double lrBefore = sent != null && FailedLrs.usable(sent.lrBefore()) ? sent.lrBefore() : scriptLr;
    double lrAfter = b.size() > 0 && FailedLrs.usable(b.lr()[0]) ? b.lr()[0]
        : FailedLrs.usable(lrBefore) && factor > 0 ? Double.parseDouble(String.format(java.util.Locale.ROOT, "%.12g", lrBefore * factor))
        : lrBefore;
    policy.scriptRewound(ack.step(), lrAfter);
    scriptLr = lrAfter;
    life.position(ack.step(), Double.NaN, lrAfter, Double.NaN);   // its numbers come with the steps of the new cycle
    life.rewound(at, ack.step(), lrBefore, lrAfter, why, a.cycle());
  }

  /**
   * The commands the script carried out (from the {@code skip}-th acknowledgement on): an lr change is recorded at the
   * step, and with the lr, the script says; a probe's branches go to the policy; a rewind the script could not make
   * (an error) leaves the run where it is.
   */
  private void acknowledged(Append a, int skip) {
    StepBatch b = a.steps();
    for (Append.Ack ack : a.acks().subList(Math.min(skip, a.acks().size()), a.acks().size())) {
      ScriptCommands.Sent c = commands.acknowledged(ack.id());
      if (c == null) continue;   // unknown, or acknowledged before
      switch (c.command().op()) {
        case "lr" -> {
          if (ack.error() != null) continue;
          double before = reportedBefore(b, ack.step(), scriptLr);
          double now = reported(b, ack.step(), c.command().lr());
          scriptLr = now;
          life.lrChanged(ack.step(), before, now, c.cause());
        }
        case "stop" -> stopHeard = true;
        case "probe" -> policy.probed(ack);
        case "rewind" -> {   // not at the head of a new cycle: the script did not go back
          policy.notRewound();
          life.notRewound(c.at(), ack.error() != null ? ack.error() : "it began no new cycle");
        }
        default -> { }   // pause and resume are heard as they are acknowledged
      }
    }
  }

  /** The lr the script reported at step {@code s} (in this append, or one memory holds), else {@code otherwise}. */
  private double reported(StepBatch b, long s, double otherwise) {
    int i = Arrays.binarySearch(b.step(), s);
    double v = i >= 0 ? b.lr()[i] : run.history().lrAt(s);
    return Double.isNaN(v) ? otherwise : v;
  }

  /** The lr the script reported last before step {@code s} in this append, else {@code otherwise}. */
  private static double reportedBefore(StepBatch b, long s, double otherwise) {
    int i = Arrays.binarySearch(b.step(), s);
    int before = (i >= 0 ? i : -i - 1) - 1;
    return before >= 0 && !Double.isNaN(b.lr()[before]) ? b.lr()[before] : otherwise;
  }

  /** Answers at once when the store holds every record the append needs, else once it does. */
  private void answer(Taken t) {
    if (!run.history().persistent() || run.history().persisted() >= t.records()) reply(t);
    else unanswered.add(t);
  }

  private void reply(Taken t) {
    t.m().reply(new Appended(t.accepted(), t.duplicates(), t.skipped(), t.lastStep(), commands.all()));
  }

  private void finish(Message<Finish> m) {
    RunState state = life.state();
    if (!state.isLive() && state != RunState.INTERRUPTED) {
      refuse(m, RunRefusal.isEnd(state) ? RunRefusal.ended(run.id(), state, "cannot finish") : life.refusal("cannot finish"));
      return;
    }
    boolean first = finishing.isEmpty();
    finishing.add(m);
    if (!first) return;   // already ending
    life.finish(m.body().state(), m.body().state() == RunState.FAILED ? m.body().message() : null);
  }

  @Override
  public void written(Written w) {
    if (w.failed()) {   // what waits is refused now, not once it timed out: the script keeps it and sends it again
      while (!unanswered.isEmpty()) refuse(unanswered.poll().m(), storage());
    } else {
      long persisted = run.history().persisted();
      while (!unanswered.isEmpty() && unanswered.peek().records() <= persisted) reply(unanswered.poll());
    }
    go();
  }

  /** Takes the appends that waited while the store keeps up, or refuses them all (the run ended, or cannot write). */
  @Override
  public void go() {
    while (!waiting.isEmpty()) {
      RunRefusal no = refusal();
      if (no == null && mustWait(waiting.peek().body())) return;
      Message<Append> m = waiting.poll();
      if (no != null) no.fail(m);
      else takeOrRefuse(m);
    }
  }

  @Override
  public void halt() {
    // a script halts when it hears a command; its steps already sent are taken
  }

  /** An lr change is a command: the newest replaces one the script has not acknowledged yet. */
  @Override
  public void setLr(double lr, String cause) {
    commands.lr(lr, scriptLr > 0 ? lr / scriptLr : Double.NaN, scriptLr, cause);
  }

  /** A script's guard asks its script to rewind (a command, in {@link #take}); the lifecycle never does. */
  @Override
  public void rewind(long to, double lrFactor, String why) {
    throw new IllegalStateException("a script's run rewinds at its script's acknowledgement");
  }

  @Override
  public void commanded(RunCommand.Kind kind) {
    switch (kind) {
      case PAUSE -> commands.pause();
      case RESUME -> commands.resume();
      case STOP -> commands.stop("stopped");
      default -> { }
    }
  }

  /** A script keeps its own state. */
  @Override
  public State state() {
    return null;
  }

  @Override
  public Fork fork(long step) {
    throw life.refusal("is trained elsewhere: it can't be branched here");
  }

  /** A run the server stopped (a person, or its guard out of rewinds) waits until its script heard it. */
  @Override
  public boolean holding() {
    return (life.state() == RunState.STOPPED || life.state() == RunState.DIVERGED) && !stopHeard;
  }

  @Override
  public void ended(RunState end) {
    for (Message<Finish> m : finishing) m.reply(run.summary());
    finishing.clear();
    go();   // what waits is taken (a stop the script has not heard of yet) or refused
  }

  @Override
  public void stop() {
    RunRefusal going = RunRefusal.of(RunRefusal.Kind.UNAVAILABLE, "run " + run.id()
        + " is not taking steps here now (the server is stopping, or the run is moving); send them again");
    while (!unanswered.isEmpty()) refuse(unanswered.poll().m(), going);
    while (!waiting.isEmpty()) refuse(waiting.poll(), going);
    for (Message<Finish> m : finishing) refuse(m, going);
    finishing.clear();
  }

  private RunRefusal storage() {
    return RunRefusal.of(RunRefusal.Kind.STORAGE, "storage: the server cannot write the steps of run " + run.id()
        + " now; send them again later");
  }

  private static void refuse(Message<?> m, RunRefusal r) {
    r.fail(m);
  }
}
