package io.losswatch.run;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.history.RunHistory;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Every run the server knows, by id. Thread-safe; runs are listed oldest first. */
public final class RunRegistry {
  private static final char[] ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();
  private final ConcurrentHashMap<String, Run> runs = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  /** Counts changes to the set of runs (a change to a run is not one). */
  private final AtomicLong changed = new AtomicLong();
  private volatile Ordered ordered;

  /** A new run in state {@code created}, under an id from {@link #newId()}. */
  public Run add(RunSummary created, boolean demo, RunHistory history) {
    Run run = new Run(created.id(), created.spec(), demo, history, created);
    if (runs.putIfAbsent(run.id(), run) != null) throw new IllegalStateException("run id " + run.id() + " is taken");
    changed.incrementAndGet();
    return run;
  }

  /**
   * A run read back from disk, at start-up or taken over from a node that left (it replaces the mirror); it has
   * no verticle.
   */
  public Run restore(RunFiles.Restored r) {
    RunHistory history = new RunHistory(r.summary().id(), r.log());
    history.abandoned(r.abandoned());
    history.cycle(r.summary().cycle());
    Run run = new Run(r.summary().id(), r.summary().spec(), false, history, r.summary());
    runs.put(run.id(), run);
    changed.incrementAndGet();
    return run;
  }

  /** Another node's run, seen here: its steps mirrored in memory, its summary as its owner tells it. */
  public Run mirror(RunSummary summary, String owner) {
    Run run = new Run(summary.id(), summary.spec(), false, new RunHistory(summary.id(), null), summary);
    run.mirror(summary, owner);
    Run had = runs.putIfAbsent(run.id(), run);
    changed.incrementAndGet();
    return had != null ? had : run;
  }

  public Optional<Run> get(String id) {
    return Optional.ofNullable(id == null ? null : runs.get(id));
  }

  public Optional<Run> remove(String id) {
    Optional<Run> gone = Optional.ofNullable(runs.remove(id));
    changed.incrementAndGet();
    return gone;
  }

  /**
   * Every run, oldest first: sorted once per change of the set, not per call (every "*" subscriber asks, and a
   * thousand of them reconnect at once after a restart).
   */
  public List<Run> all() {
    long version = changed.get();   // read before the map: a change after it makes the next call sort again
    Ordered o = ordered;
    if (o != null && o.version == version) return o.runs;
    List<Run> sorted = runs.values().stream()
        .sorted(Comparator.comparingLong((Run r) -> r.summary().created()).thenComparing(Run::id))
        .toList();
    ordered = new Ordered(version, sorted);
    return sorted;
  }

  /** {@link #all()} as of version {@code version} of the set. */
  private record Ordered(long version, List<Run> runs) {
  }

  public Collection<Run> unordered() {
    return runs.values();
  }

  /** The runs this node owns. */
  public List<Run> local() {
    return runs.values().stream().filter(Run::local).toList();
  }

  /** How many runs this node owns (the cap counts these). */
  public int size() {
    return (int) runs.values().stream().filter(Run::local).count();
  }

  /** How many runs this node owns are in {@code state}. */
  public long count(RunState state) {
    return runs.values().stream().filter(r -> r.local() && r.summary().state() == state).count();
  }

  /** A fresh id no run has. */
  public String newId() {
    char[] c = new char[8];
    for (int i = 0; i < c.length; i++) c[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    String id = new String(c);
    return runs.containsKey(id) ? newId() : id;
  }
}
