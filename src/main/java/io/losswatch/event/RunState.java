package io.losswatch.event;

import java.util.Locale;

/** Where a run is in its life. Only {@link #RUNNING} and {@link #PAUSED} runs take commands. */
public enum RunState {
  CREATED, RUNNING, PAUSED, FINISHED, DIVERGED, FAILED, STOPPED, INTERRUPTED,
  /** Only ever seen in the last event about a run. */
  DELETED;

  /** The name clients see: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean isLive() {
    return this == CREATED || this == RUNNING || this == PAUSED;
  }
}
