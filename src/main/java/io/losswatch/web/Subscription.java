package io.losswatch.web;

import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Steps;

/**
 * One client's interest in one run: what the two modes share. The run's newest state change waits here until
 * it may go (older ones are conflated away): the first one at once, since it introduces the run; later ones
 * once the steps taken before them are out, so a client never hears of an end before the steps that led there.
 */
abstract class Subscription {
  static final int MAX_HELD_ALERTS = 4;
  final String run;
  int cycle;                // the run's cycle this client's steps belong to
  boolean binary;           // its steps go as binary messages ({@link BinaryWire}), not JSON
  private RunSummary summary;   // the newest state change not sent yet, or null
  private String summaryText;   // its message, when already written (shared by every session)
  private boolean introduced;   // the client got a summary of this run
  boolean ended;            // its deletion was sent: the session drops it
  boolean following;        // the run's new steps come to this node (at once for its own runs): its history may be read
  boolean dropped;          // the session let go of it (and the node's following of the run for it)
  private java.util.List<String> alerts;   // alerts raised after the waiting summary, to follow it

  Subscription(String run, int cycle) {
    this.run = run;
    this.cycle = cycle;
  }

  /** A state change to send: the newest replaces any older one. */
  void summary(RunSummary s, String text) {
    summary = s;
    summaryText = text;
  }

  /** The run started over (a demo run): its steps count from 1 again, and it is introduced anew. */
  void restart(int newCycle) {
    cycle = newCycle;
    introduced = false;
  }

  /** What this client follows of the run's new steps: the node follows the run so while any client does. */
  abstract Steps.Interest interest();

  /** Sends the waiting summary if it may go now and there is room; false when one still waits. */
  boolean sendSummary(Outbound out) {
    if (summary == null) return true;
    boolean deleted = summary.state() == RunState.DELETED;
    if (introduced && !deleted && !stepsOut(summary)) return false;
    if (!out.send(summaryText != null ? summaryText : Json.runMessage(summary))) return false;
    introduced = true;
    ended = deleted;
    summary = null;
    summaryText = null;
    return true;
  }

  /**
   * Whether the client has had (or, in live mode, will have no other chance at) every step the state change {@code s}
   * follows.
   */
  abstract boolean stepsOut(RunSummary s);

  /** Whether nothing waits but what the batches will bring: the session need not look at it every tick. */
  abstract boolean settled();

  boolean introduced() {
    return introduced;
  }

  boolean summaryWaiting() {
    return summary != null;
  }

  /** The state change waiting to go, or null. */
  RunSummary waiting() {
    return summary;
  }

  /** Keeps an alert until the state change before it has gone (a few: later ones are dropped); false if dropped. */
  boolean holdAlert(String text) {
    if (alerts == null) alerts = new java.util.ArrayList<>(2);
    if (alerts.size() >= MAX_HELD_ALERTS) return false;
    alerts.add(text);
    return true;
  }

  /** The alerts held behind the summary just sent. */
  java.util.List<String> takeAlerts() {
    java.util.List<String> a = alerts == null ? java.util.List.of() : alerts;
    alerts = null;
    return a;
  }
}
