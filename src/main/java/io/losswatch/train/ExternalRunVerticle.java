package io.losswatch.train;

import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Events;
import io.losswatch.event.Finish;
import io.losswatch.event.RunCommand;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.history.RunHistory;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An external run: a training script elsewhere appends its steps, and this verticle takes them as a built-in
 * run's verticle takes its trainer's (into the history, onto the event bus, through the diagnoser) and answers
 * each append with what the script must do. Commands (an lr change, pause, resume, stop) are repeated in every
 * answer until the script acknowledges them; an lr change is recorded at the step the script says it took
 * effect. While the run is {@link RunHistory#MAX_UNWRITTEN} steps ahead of the store, appends wait (the script
 * feels the store's pace as a slower answer); while the store cannot write, they are refused with 503 and the
 * script sends them again.
 */
final class ExternalRunVerticle extends RunOwner {
  /** Appends held while the store catches up; more are refused (503) for the script to send again. */
  static final int MAX_WAITING = 8;
  /** Extra scalars a run may have in all (each is a column on disk). */
  static final int MAX_METRICS = 8;
  private final Map<String, Appended.Command> pending = new LinkedHashMap<>();
  private final Map<String, Double> lrFrom = new HashMap<>();   // an lr command's id → the lr it replaces
  private final Map<String, String> lrCause = new HashMap<>();
  private final ArrayDeque<Message<Append>> waiting = new ArrayDeque<>();
  private long commands;
  private long lastStep;
  private double loss = Double.NaN;
  private double lr = Double.NaN;
  private double gradNorm = Double.NaN;
  private double scriptLr;   // the lr the script uses now, as far as the server knows
  private String failure;
  private boolean stopHeard;
  private Message<Finish> finishing;
  private long rateNanos = System.nanoTime();
  private long rateStep;
  private double rate;

  ExternalRunVerticle(Run run) {
    super(run);
    RunSummary s = run.summary();
    lastStep = run.history().lastStep();
    loss = s.loss();
    lr = s.lr();
    gradNorm = s.gradNorm();
    bestLoss = s.bestLoss();
    scriptLr = Double.isNaN(s.lr()) ? run.spec().lr() : s.lr();
    rateStep = lastStep;
  }

  @Override
  Future<?> started() {
    var appends = vertx.eventBus().<Append>consumer(Events.append(run.id()), m -> onAppend(m, m.body()));
    var finish = vertx.eventBus().<Finish>consumer(Events.finish(run.id()), m -> onFinish(m, m.body()));
    return Future.all(appends.completion(), finish.completion()).onSuccess(v -> {
      if (state == RunState.CREATED) changeState(RunState.RUNNING);   // its script is running
    });
  }

  private void onAppend(Message<Append> m, Append a) {
    List<String> names = run.history().metrics();
    long fresh = a.steps().metrics().keySet().stream().filter(n -> !names.contains(n)).count();
    if (names.size() + fresh > MAX_METRICS) {
      m.fail(400, "metrics: a run has at most " + MAX_METRICS + " extra scalars; it has " + names + ", and this append adds "
          + fresh + " more");
    } else if (!state.isLive() && state != RunState.INTERRUPTED && !(state == RunState.STOPPED && !stopHeard)) {
      refuse(m, "it takes no more steps");
    } else if (storageFault) {
      m.fail(503, "storage: the server cannot write the steps of run " + run.id() + " now; send them again later");
    } else if (run.history().unwritten() >= RunHistory.MAX_UNWRITTEN || !waiting.isEmpty()) {
      if (waiting.size() < MAX_WAITING) waiting.add(m);   // answered once the store caught up
      else m.fail(503, "busy: run " + run.id() + " is writing what it has; send this again later");
    } else {
      take(m, a);
    }
  }

  /** Takes what the script applied and the steps it did not send before; answers with what it must do. */
  private void take(Message<Append> m, Append a) {
    for (Append.Ack ack : a.acks()) {
      Appended.Command c = pending.remove(ack.id());
      if (c == null) continue;   // unknown, or acknowledged before
      switch (c.op()) {
        case "lr" -> {
          scriptLr = c.lr();
          lrChanged(ack.step(), lrFrom.remove(c.id()), c.lr(), lrCause.remove(c.id()));
        }
        case "stop" -> stopHeard = true;
        default -> { }
      }
    }
    StepBatch b = a.steps();
    int from = 0;
    while (from < b.size() && b.step()[from] <= lastStep) from++;
    int accepted = b.size() - from;
    if (accepted > 0) {
      StepBatch fresh = slice(b, from);
      if (state == RunState.INTERRUPTED) changeState(RunState.RUNNING);   // its script came back
      run.history().append(fresh);   // before publishing: whoever sees the batch finds it in the history too
      for (int i = 0; i < fresh.size(); i++) {
        if (!Double.isNaN(fresh.lr()[i])) scriptLr = fresh.lr()[i];
        observe(fresh.step()[i], fresh.loss()[i], fresh.lr()[i], fresh.gradNorm()[i], Double.NaN, Double.NaN);
      }
      int last = fresh.size() - 1;
      lastStep = fresh.lastStep();
      loss = fresh.loss()[last];
      lr = fresh.lr()[last];
      gradNorm = fresh.gradNorm()[last];
      measureRate();
      Events.publish(vertx.eventBus(), fresh);
    }
    run.summary(summary(state));   // the stall watch sees the script alive
    observed(lastStep);
    m.reply(new Appended(accepted, from, lastStep, List.copyOf(pending.values())));
    if (stopHeard) retire();
  }

  private StepBatch slice(StepBatch b, int from) {
    StepBatch s = b.from(from);
    return s.cycle() == run.cycle() ? s : s.withCycle(run.cycle());
  }

  private void measureRate() {
    long now = System.nanoTime();
    if (now - rateNanos >= 1_000_000_000L) {
      rate = (lastStep - rateStep) * 1e9 / (now - rateNanos);
      rateNanos = now;
      rateStep = lastStep;
    }
  }

  private void onFinish(Message<Finish> m, Finish f) {
    if (!state.isLive() && state != RunState.INTERRUPTED) {
      refuse(m, "cannot finish");
      return;
    }
    failure = f.state() == RunState.FAILED ? f.message() : null;
    finishing = m;   // answered once the run's last step is on disk and it took its end state
    finish(f.state());
  }

  @Override
  void ended(RunState end) {
    if (finishing != null) finishing.reply(run.summary());
    finishing = null;
  }

  /**
   * A script's run can't be forked, so its advice is the diagnoser's heuristics, marked unproven; too_slow, the
   * advice most easily wrong on a noisy loss, is advised only once it has held for {@link #SLOW_ALERT_STEPS}.
   */
  @Override
  Diagnosis diagnosis() {
    Diagnosis d = diagnoser.current();
    if (!d.hasAdvice()) return d;
    if (d.verdict() == Verdict.TOO_SLOW && lastStep - d.sinceStep() < SLOW_ALERT_STEPS) {
      return new Diagnosis(Verdict.CONVERGING, "keep the lr", Double.NaN, d.sinceStep(), d.evidence()
          + "; too slow for under " + SLOW_ALERT_STEPS + " steps, not yet advised");
    }
    return new Diagnosis(d.verdict(), d.advice(), d.suggestedLr(), d.sinceStep(), d.evidence()
        + " (advice unproven: a run trained elsewhere can't be forked to check it)");
  }

  @Override
  RunSummary summary(RunState s) {
    RunSummary old = run.summary();
    return new RunSummary(run.id(), run.spec(), s, run.cycle(), lastStep, loss, lr, gradNorm, bestLoss,
        s == RunState.RUNNING ? rate : 0, old.created(), System.currentTimeMillis(), diagnosis(),
        List.copyOf(lrChanges), s == RunState.FAILED ? failure : reason(s), old.parent(), old.branchedAt(), old.rewinds());
  }

  /** An lr change is a command: the newest replaces one the script has not acknowledged yet. */
  @Override
  void setLr(double newLr, String cause) {
    pending.values().removeIf(c -> c.op().equals("lr"));
    String id = command("lr", newLr, scriptLr > 0 ? newLr / scriptLr : Double.NaN);
    lrFrom.put(id, scriptLr);
    lrCause.put(id, cause);
  }

  @Override
  void commanded(RunCommand.Kind kind) {
    switch (kind) {
      case PAUSE -> command("pause", Double.NaN, Double.NaN);
      case RESUME -> {   // a pause the script has not heard of yet is simply taken back
        if (!pending.values().removeIf(c -> c.op().equals("pause"))) command("resume", Double.NaN, Double.NaN);
      }
      case STOP -> {
        pending.values().removeIf(c -> c.op().equals("pause") || c.op().equals("resume"));
        command("stop", Double.NaN, Double.NaN);
      }
      default -> { }
    }
  }

  private String command(String op, double newLr, double factor) {
    String id = "c" + (++commands);
    pending.put(id, new Appended.Command(id, op, newLr, factor));
    return id;
  }

  @Override
  boolean stoppable() {
    return state.isLive() || state == RunState.INTERRUPTED;
  }

  @Override
  boolean retirable() {
    return state != RunState.STOPPED || stopHeard;
  }

  @Override
  void written() {
    while (!waiting.isEmpty() && run.history().unwritten() < RunHistory.MAX_UNWRITTEN && !storageFault) {
      Message<Append> m = waiting.poll();
      take(m, m.body());
    }
  }

  @Override
  void halt() {
  }

  @Override
  void proceed() {
    written();
  }

  @Override
  public Future<?> stop() {
    for (Message<Append> m : new ArrayList<>(waiting)) m.fail(503, "the server is stopping; send this again later");
    waiting.clear();
    return super.stop();
  }
}
