package io.losswatch.run;

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
  private boolean stopHeard;
  /** Finishes answered once the run's last step is on disk and it took its end state (a script may ask twice). */
  private final List<Message<Finish>> finishing = new ArrayList<>();

  private record Taken(Message<Append> m, long accepted, long duplicates, long skipped, long lastStep, long records) {
  }

  ScriptSource(Lifecycle life, Run run, RunPolicy policy) {
    this.life = life;
    this.run = run;
    this.policy = policy;
    double lr = run.summary().lr();
    scriptLr = Double.isNaN(lr) ? run.spec().lr() : lr;
  }

  @Override
  public Future<?> start() {
    var bus = life.vertx().eventBus();
    var appends = bus.<Append>consumer(Events.append(run.id()), this::offer);
    var finishes = bus.<Finish>consumer(Events.finish(run.id()), this::finish);
    return Future.all(appends.completion(), finishes.completion()).onSuccess(v -> {
      if (life.state() == RunState.CREATED) life.running();   // its script is running
    });
  }

  /** An append: taken now, held while the store catches up, or refused. */
  private void offer(Message<Append> m) {
    RunRefusal no = refusal();
    if (no != null) {
      no.fail(m);
    } else if (behind() || !waiting.isEmpty()) {
      if (waiting.size() < MAX_WAITING) waiting.add(m);   // taken once the store caught up
      else RunRefusal.of(RunRefusal.Kind.BUSY, "busy: run " + run.id() + " is writing what it has; send this again later").fail(m);
    } else {
      takeOrRefuse(m);
    }
  }

  /** Why the run takes no append now (it ended, or its store cannot write), or null. */
  private RunRefusal refusal() {
    RunState state = life.state();
    if (!state.isLive() && state != RunState.INTERRUPTED && !(state == RunState.STOPPED && !stopHeard)) {
      return RunRefusal.isEnd(state) ? RunRefusal.ended(run.id(), state, "it takes no more steps") : life.refusal("it takes no steps");
    }
    return life.storageFault() ? storage() : null;
  }

  /** Whether the run is a window ahead of its store: appends wait. */
  private boolean behind() {
    return run.history().unwritten() >= RunHistory.MAX_UNWRITTEN;
  }

  private void takeOrRefuse(Message<Append> m) {
    try {
      take(m);
    } catch (RunRefusal r) {
      r.fail(m);
    }
  }

  /**
   * Takes what the script applied and the steps it did not send before. The metrics' cap is checked here, as the
   * append is taken, so appends waiting together cannot pass it together.
   */
  private void take(Message<Append> m) {
    Append a = m.body();
    StepBatch b = a.steps();
    List<String> names = run.history().metrics();
    List<String> added = b.metrics().keySet().stream().filter(n -> !names.contains(n)).toList();
    if (names.size() + added.size() > Run.MAX_METRICS) {
      throw RunRefusal.invalid("metrics." + added.get(Math.max(0, Run.MAX_METRICS - names.size())), "a run has at most "
          + Run.MAX_METRICS + " metrics; it has " + names.size() + ", and this append adds " + added.size() + " more");
    }
    acknowledged(a);
    if (a.curvature() != null) life.curvature(a.curvature().preconditioned(), a.curvature().threshold());
    long last = run.history().lastStep();
    int from = 0;
    while (from < b.size() && b.step()[from] <= last) from++;
    long held = run.history().held(b.step(), from);
    if (from < b.size()) {
      StepBatch fresh = b.from(from);
      if (fresh.cycle() != run.cycle()) fresh = fresh.withCycle(run.cycle());
      if (life.state() == RunState.INTERRUPTED) life.running();   // its script came back
      for (int i = 0; i < fresh.size(); i++) {
        if (!Double.isNaN(fresh.lr()[i])) scriptLr = fresh.lr()[i];
        double auto = policy.afterScriptStep(fresh.step()[i], fresh.loss()[i], fresh.lr()[i], fresh.gradNorm()[i]);
        if (!Double.isNaN(auto)) setLr(auto, "auto");
      }
      life.took(fresh);
    } else {
      life.touched();
    }
    life.observed();
    RunHistory h = run.history();
    answer(new Taken(m, b.size() - from, held, from - held, h.lastStep(), h.records()));
    if (stopHeard) life.retire();
  }

  /** The commands the script carried out: an lr change is recorded at the step, and with the lr, the script says. */
  private void acknowledged(Append a) {
    StepBatch b = a.steps();
    for (Append.Ack ack : a.acks()) {
      ScriptCommands.Sent c = commands.acknowledged(ack.id());
      if (c == null) continue;   // unknown, or acknowledged before
      switch (c.command().op()) {
        case "lr" -> {
          double before = reportedBefore(b, ack.step(), scriptLr);
          double now = reported(b, ack.step(), c.command().lr());
          scriptLr = now;
          life.lrChanged(ack.step(), before, now, c.cause());
        }
        case "stop" -> stopHeard = true;
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
      if (no == null && behind()) return;
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

  /**
   * The script goes back to its newest snapshot at or before step {@code to} and acknowledges the step it went back
   * to. Nothing asks a script's run to rewind yet: issue 20's guard for scripts takes the acknowledgement (the log
   * cut once stored, {@link RunLifecycle#rewound}, stale steps of the old cycle dropped).
   */
  @Override
  public void rewind(long to, double lrFactor, String why) {
    commands.rewind(run.history().lastStep(), to, lrFactor, scriptLr, why);
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

  /** A stopped run waits until its script heard it was stopped. */
  @Override
  public boolean holding() {
    return life.state() == RunState.STOPPED && !stopHeard;
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
