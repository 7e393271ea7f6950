package io.losswatch.event;

import java.util.List;

/**
 * What an external run's verticle answers an {@link Append}: how many steps it took and how many it already
 * had (a resent batch), its last step, and what the training loop must do, every command until it is acknowledged.
 */
public record Appended(long accepted, long duplicates, long lastStep, List<Command> commands) {
  /**
   * An order for the script: {@code lr} (use {@code lr}, which is {@code factor} times the current one),
   * {@code pause}, {@code resume} or {@code stop}.
   */
  public record Command(String id, String op, double lr, double factor) {
  }
}
