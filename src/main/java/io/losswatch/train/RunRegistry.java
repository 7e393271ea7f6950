package io.losswatch.train;

import io.losswatch.core.RunSpec;
import io.losswatch.event.RunState;
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

  /** A new run in state {@code created}, with a fresh id. */
  public Run add(RunSpec spec, boolean demo) {
    while (true) {
      Run run = new Run(newId(), spec, demo, System.currentTimeMillis());
      if (runs.putIfAbsent(run.id(), run) == null) return run;
    }
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

  private String newId() {
    char[] c = new char[8];
    for (int i = 0; i < c.length; i++) c[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    return new String(c);
  }
}
