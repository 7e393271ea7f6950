package io.losswatch.train;

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

/** Every run the server knows, by id. Thread-safe; runs are listed oldest first. */
public final class RunRegistry {
  private static final char[] ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();
  private final ConcurrentHashMap<String, Run> runs = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

  /** A new run in state {@code created}, under an id from {@link #newId()}. */
  public Run add(RunSummary created, boolean demo, RunHistory history) {
    Run run = new Run(created.id(), created.spec(), demo, history, created);
    if (runs.putIfAbsent(run.id(), run) != null) throw new IllegalStateException("run id " + run.id() + " is taken");
    return run;
  }

  /** A run read back from disk at start-up; it has no verticle. */
  public Run restore(RunSummary summary, RunHistory history) {
    Run run = new Run(summary.id(), summary.spec(), false, history, summary);
    runs.put(run.id(), run);
    return run;
  }

  public Optional<Run> get(String id) {
    return Optional.ofNullable(id == null ? null : runs.get(id));
  }

  public Optional<Run> remove(String id) {
    return Optional.ofNullable(runs.remove(id));
  }

  public List<Run> all() {
    return runs.values().stream()
        .sorted(Comparator.comparingLong((Run r) -> r.summary().created()).thenComparing(Run::id))
        .toList();
  }

  public Collection<Run> unordered() {
    return runs.values();
  }

  public int size() {
    return runs.size();
  }

  public long count(RunState state) {
    return runs.values().stream().filter(r -> r.summary().state() == state).count();
  }

  /** A fresh id no run has. */
  public String newId() {
    char[] c = new char[8];
    for (int i = 0; i < c.length; i++) c[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    String id = new String(c);
    return runs.containsKey(id) ? newId() : id;
  }
}
