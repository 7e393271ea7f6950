package io.losswatch.core;

import io.losswatch.core.config.Options;
import java.util.List;
import java.util.Set;

/**
 * A RunSpec's {@code guard}: when one of its triggers fires, the run goes back to a state at least {@code rewind}
 * steps before and goes on with its lr ×{@code lrFactor}; after {@code maxRewinds} rewinds, a trigger ends the run
 * as diverged. Triggers: {@code diverging}, {@code non_finite} and {@code dead} (the diagnoser's verdicts) and
 * {@code spike} (a loss spike: {@code io.losswatch.core.policy.Spikes}).
 */
public record Guard(Set<String> on, int rewind, double lrFactor, int maxRewinds) {
  public static final List<String> TRIGGERS = List.of("diverging", "non_finite", "spike", "dead");
  public static final int MAX_REWINDS = 10;
  /** Steps back at most: what a run keeps in memory reaches that far. */
  public static final int MAX_REWIND = 1000;

  /** Reads {@code {"on": [...], "rewind": 50, "lr_factor": 0.1, "max_rewinds": 3}}; every field has that default. */
  public static Guard read(Options o) {
    List<String> on = o.strings("on", TRIGGERS, TRIGGERS);   // not empty, each a trigger
    int rewind = o.integer("rewind", 50, 1, MAX_REWIND);
    double factor = o.number("lr_factor", 0.1, v -> v > 0 && v < 1, "must be in (0, 1)");
    int max = o.integer("max_rewinds", 3, 1, MAX_REWINDS);
    o.done("a guard (on, rewind, lr_factor, max_rewinds)");
    return new Guard(Set.copyOf(on), rewind, factor, max);
  }

  public boolean on(String trigger) {
    return on.contains(trigger);
  }
}
