package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.event.Events;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Sweeps: one run per learning rate, in parallel verticles, grouped by a sweep id (each run's spec carries it),
 * with an optional early stop: at each milestone step, once every run still going has reached it, the worse of
 * them (by their loss at that step; a non-finite loss is worst) are stopped, keeping a fraction.
 */
public final class Sweeps {
  /** At each of the steps {@code at}, keep the best {@code keep} of the runs still going (at least one). */
  public record EarlyStop(long[] at, double keep) {
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  private final Vertx vertx;
  private final RunRegistry runs;
  /** Starts every spec, or none ({@link RunManager#launchAll}). */
  private final Function<List<RunSpec>, Future<List<Run>>> launchAll;
  /** Stops a run, as a person's /stop does. */
  private final Consumer<Run> stop;
  /** Runs an early stop stopped, by sweep (in memory: after a restart a sweep is its runs alone). */
  private final Map<String, Set<String>> stopped = new ConcurrentHashMap<>();

  Sweeps(Vertx vertx, RunRegistry runs, Function<List<RunSpec>, Future<List<Run>>> launchAll, Consumer<Run> stop) {
    this.vertx = vertx;
    this.runs = runs;
    this.launchAll = launchAll;
    this.stop = stop;
  }

  /** A new sweep's id, for its runs' specs: {@code s} and 8 letters or digits. */
  public String newId() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder b = new StringBuilder("s");
    for (int i = 0; i < 8; i++) b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    return b.toString();
  }

  /**
   * Starts every spec (each with the sweep's id), or none ({@link RunManager#launchAll}); with an early stop,
   * watches them.
   */
  public Future<List<Run>> launch(String sweep, List<RunSpec> specs, EarlyStop early) {
    stopped.put(sweep, ConcurrentHashMap.newKeySet());
    // the watch is in place before any run starts, so it sees each one's first step
    Watch watch = early == null ? null : new Watch(sweep, specs.size(), early);
    Future<Void> watching = watch == null ? Future.succeededFuture() : watch.start();
    return watching.compose(x -> launchAll.apply(specs)).onFailure(e -> {
      stopped.remove(sweep);
      if (watch != null) watch.consumer.unregister();
    });
  }

  /** The runs of a sweep, as the registry has them now. */
  public List<Run> runs(String sweep) {
    return runs.all().stream().filter(r -> sweep.equals(r.spec().sweep())).toList();
  }

  /** Whether the sweep's early stop stopped this run. */
  public boolean earlyStopped(String sweep, String run) {
    Set<String> s = stopped.get(sweep);
    return s != null && s.contains(run);
  }

  /** One sweep's early stop: the loss of each run at each milestone, and the decision once all have it. */
  private final class Watch {
    private final String sweep;
    private final EarlyStop early;
    private final int runs;
    private final Map<String, double[]> atMilestone = new HashMap<>();
    private final Set<String> going = new HashSet<>();
    private int next;
    private MessageConsumer<RunEvent> consumer;

    Watch(String sweep, int runs, EarlyStop early) {
      this.sweep = sweep;
      this.runs = runs;
      this.early = early;
    }

    Future<Void> start() {
      consumer = Events.listen(vertx.eventBus(), Events.RUNS, new RunEvent.Listener() {
        @Override public void batch(StepBatch b) {
          if (!going.contains(b.run())) return;
          took(b);
          decide();
        }

        @Override public void summary(RunSummary s) {
          if (!sweep.equals(s.spec().sweep())) return;
          if (!atMilestone.containsKey(s.id())) {   // a run of the sweep, created
            double[] l = new double[early.at().length];
            Arrays.fill(l, Double.NaN);
            atMilestone.put(s.id(), l);
            going.add(s.id());
          }
          if (!s.state().isLive()) going.remove(s.id());
          decide();
        }
      });
      return consumer.completion();
    }

    private void took(StepBatch b) {
      double[] l = atMilestone.get(b.run());
      for (int k = next; k < early.at().length; k++) {
        long step = early.at()[k];
        if (step < b.step()[0] || step > b.lastStep()) continue;
        int i = Arrays.binarySearch(b.step(), 0, b.size(), step);
        if (i >= 0) l[k] = Double.isFinite(b.loss()[i]) ? b.loss()[i] : Double.POSITIVE_INFINITY;
      }
    }

    /** Decides every milestone that all runs still going have reached. */
    private void decide() {
      if (atMilestone.size() < runs) return;   // not every run has been created yet
      while (next < early.at().length && !going.isEmpty()
          && going.stream().allMatch(id -> !Double.isNaN(atMilestone.get(id)[next]))) {
        int k = next++;
        List<String> ranked = new ArrayList<>(going);
        ranked.sort(Comparator.comparingDouble(id -> atMilestone.get(id)[k]));
        int keep = Math.max(1, (int) Math.ceil(early.keep() * ranked.size()));
        for (String id : ranked.subList(keep, ranked.size())) {
          going.remove(id);
          stopped.get(sweep).add(id);
          Sweeps.this.runs.get(id).ifPresent(stop);
        }
      }
      if (going.isEmpty() || next >= early.at().length) consumer.unregister();
    }
  }
}
