package io.losswatch.run;

import io.losswatch.event.Appended;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a script's run told its script to do and has not yet heard back about. Each command repeats in every append's
 * answer until the script acknowledges it (with the step it took effect at); a newer lr replaces one not yet
 * acknowledged, a resume takes back a pause the script has not heard of, and a stop makes both moot. Ids go on from
 * {@code c1}; a run taken back after a restart starts again from there, and its script takes a command it has
 * heard of (by id) for a new one only once the answers no longer carried it.
 */
final class ScriptCommands {
  /** A command sent, with what the run needs to record it once acknowledged. */
  record Sent(Appended.Command command, double lrBefore, String cause, long at) {
  }

  private final Map<String, Sent> pending = new LinkedHashMap<>();
  private long issued;

  /** Use {@code lr}, {@code factor} times {@code lrBefore} (the lr the script reported last); {@code cause}: set, advice, auto. */
  void lr(double lr, double factor, double lrBefore, String cause) {
    drop("lr");
    add(Appended.Command.lr(next(), lr, factor), lrBefore, cause, -1);
  }

  void pause() {
    add(Appended.Command.plain(next(), "pause"), Double.NaN, null, -1);
  }

  /** Takes back a pause the script has not heard of; else tells it to resume. */
  void resume() {
    if (!drop("pause")) add(Appended.Command.plain(next(), "resume"), Double.NaN, null, -1);
  }

  void stop(String reason) {
    drop("pause");
    drop("resume");
    add(Appended.Command.stop(next(), reason), Double.NaN, null, -1);
  }

  /** Back to step {@code to} at the latest, lr ×{@code factor} of {@code lrBefore}; the guard fired at step {@code at} ({@code why}). */
  void rewind(long at, long to, double factor, double lrBefore, String why) {
    add(Appended.Command.rewind(next(), to, factor), lrBefore, why, at);
  }

  /** Run the lr ×each of {@code factors} for {@code horizon} steps from the exact state now, then come back. */
  void probe(double[] factors, int horizon) {
    add(Appended.Command.probe(next(), factors, horizon), Double.NaN, null, -1);
  }

  /** The command {@code id}, acknowledged now: null when unknown or acknowledged before. */
  Sent acknowledged(String id) {
    return pending.remove(id);
  }

  /** Every command not yet acknowledged, oldest first. */
  List<Appended.Command> all() {
    return pending.values().stream().map(Sent::command).toList();
  }

  private String next() {
    return "c" + (++issued);
  }

  private void add(Appended.Command c, double lrBefore, String cause, long at) {
    pending.put(c.id(), new Sent(c, lrBefore, cause, at));
  }

  private boolean drop(String op) {
    return pending.values().removeIf(s -> s.command().op().equals(op));
  }
}
