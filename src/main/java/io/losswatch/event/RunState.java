package io.losswatch.event;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Where a run is in its life. Only {@link #RUNNING} and {@link #PAUSED} runs take commands. */
public enum RunState {
  CREATED, RUNNING, PAUSED, FINISHED, DIVERGED, FAILED, STOPPED, INTERRUPTED,
  /**
   * The node that owned it left the cluster (died): other nodes still show it, and its history where they hold it;
   * resuming it, or its script appending again, makes a surviving node take it over.
   */
  LOST,
  /** Only ever seen in the last event about a run. */
  DELETED;

  /**
   * A run's whole life, in one table: the states each may go to. A state may be told again (a paused run's reason
   * changes); an ended demo run starts over (running); a run a restart interrupted runs again when resumed, or
   * when its script appends again, and a script (or a person) may also end it.
   */
  private static final Map<RunState, Set<RunState>> NEXT = new EnumMap<>(RunState.class);

  static {
    Set<RunState> ended = EnumSet.of(RUNNING);   // a demo run starting over
    NEXT.put(CREATED, EnumSet.of(RUNNING, STOPPED));
    NEXT.put(RUNNING, EnumSet.of(RUNNING, PAUSED, FINISHED, DIVERGED, FAILED, STOPPED));
    NEXT.put(PAUSED, EnumSet.of(PAUSED, RUNNING, STOPPED, FINISHED, FAILED));   // a script may end its run paused
    NEXT.put(FINISHED, ended);
    NEXT.put(DIVERGED, ended);
    NEXT.put(FAILED, ended);
    NEXT.put(STOPPED, ended);
    NEXT.put(INTERRUPTED, EnumSet.of(RUNNING, FINISHED, FAILED, STOPPED));
    NEXT.put(LOST, EnumSet.of(INTERRUPTED, RUNNING, FINISHED, FAILED));
    NEXT.put(DELETED, EnumSet.noneOf(RunState.class));
  }

  /** The name clients see: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean isLive() {
    return this == CREATED || this == RUNNING || this == PAUSED;
  }

  /** Whether a run in this state may go to {@code next} (deleting is always allowed, and is not a state change). */
  public boolean canBecome(RunState next) {
    return NEXT.get(this).contains(next);
  }
}
