package io.losswatch.core.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoublePredicate;

/**
 * Reads one JSON object of a run description (say the {@code optimizer} object) key by key, with defaults
 * and checks, and names the offending field in every error. {@link #done()} then rejects any key that was
 * not read, so a misspelt hyperparameter never passes silently.
 *
 * <p>An explicit JSON {@code null} counts as absent: the default applies.
 */
public final class Options {
  private final String path;
  private final Map<String, Object> map;
  private final Set<String> known = new LinkedHashSet<>();

  private Options(String path, Map<String, Object> map) {
    this.path = path;
    this.map = map;
  }

  /**
   * The options at {@code path}: a JSON object, or a bare string as shorthand for {@code {"type": string}}
   * (so {@code "problem": "rosenbrock"} works).
   */
  @SuppressWarnings("unchecked")
  public static Options of(String path, Object node) {
    if (node instanceof String type) return new Options(path, Map.of("type", type));
    if (node instanceof Map<?, ?> m) return new Options(path, (Map<String, Object>) m);
    throw new SpecException(path, "must be an object, got " + describe(node));
  }

  /** The dotted path of a key in this object, as error messages name it. */
  public String field(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public SpecException fail(String key, String reason) {
    return new SpecException(field(key), reason);
  }

  public boolean has(String key) {
    known.add(key);
    return map.get(key) != null;
  }

  /** The required string {@code type}, checked against the names allowed here. */
  public String type(List<String> allowed) {
    String t = string("type", null);
    if (t == null) throw fail("type", "is required (one of " + String.join(", ", allowed) + ")");
    if (!allowed.contains(t)) {
      throw fail("type", "must be one of " + String.join(", ", allowed) + ", got \"" + t + "\"");
    }
    return t;
  }

  public String string(String key, String def) {
    Object v = raw(key);
    if (v == null) return def;
    if (!(v instanceof String s)) throw fail(key, "must be a string, got " + describe(v));
    return s;
  }

  /** A string restricted to a few values, as torch's {@code mode="min"|"max"}. */
  public String choice(String key, String def, String... allowed) {
    String s = string(key, def);
    if (s == null) throw fail(key, "is required (one of \"" + String.join("\", \"", allowed) + "\")");
    if (!List.of(allowed).contains(s)) {
      throw fail(key, "must be one of \"" + String.join("\", \"", allowed) + "\", got \"" + s + "\"");
    }
    return s;
  }

  public boolean bool(String key, boolean def) {
    Object v = raw(key);
    if (v == null) return def;
    if (!(v instanceof Boolean b)) throw fail(key, "must be true or false, got " + describe(v));
    return b;
  }

  /** A required finite number that passes {@code ok}, else "{@code must ...}, got v". */
  public double number(String key, DoublePredicate ok, String must) {
    if (raw(key) == null) throw fail(key, "is required");
    return number(key, Double.NaN, ok, must);
  }

  /** An optional finite number that passes {@code ok}. */
  public double number(String key, double def, DoublePredicate ok, String must) {
    Object v = raw(key);
    if (v == null) return def;
    return check(field(key), v, ok, must);
  }

  /** An optional integer (a JSON number with no fraction) of at least {@code min}. */
  public int integer(String key, int def, int min) {
    Object v = raw(key);
    if (v == null) return def;
    return integer(field(key), v, min);
  }

  /** An optional integer in [{@code min}, {@code max}]: "{@code at most max, got v}" above it. */
  public int integer(String key, int def, int min, int max) {
    Object v = raw(key);
    if (v == null) return def;
    if (v instanceof Double d && d == Math.rint(d) && d > max) {
      throw fail(key, "at most " + max + ", got " + describe(v));
    }
    return integer(field(key), v, min);
  }

  /** A required integer of at least {@code min}. */
  public int integer(String key, int min) {
    if (raw(key) == null) throw fail(key, "is required");
    return integer(key, 0, min);
  }

  /** An optional array of finite numbers, each passing {@code ok}, of the given length (or any, if -1). */
  public double[] numbers(String key, double[] def, int length, DoublePredicate ok, String must) {
    List<?> l = list(key, length);
    if (l == null) return def == null ? null : def.clone();
    double[] out = new double[l.size()];
    for (int k = 0; k < out.length; k++) out[k] = check(field(key) + "[" + k + "]", l.get(k), ok, must);
    return out;
  }

  /** An optional array of integers of at least {@code min}. */
  public int[] integers(String key, int[] def, int min) {
    List<?> l = list(key, -1);
    if (l == null) return def == null ? null : def.clone();
    int[] out = new int[l.size()];
    for (int k = 0; k < out.length; k++) out[k] = integer(field(key) + "[" + k + "]", l.get(k), min);
    return out;
  }

  /** An optional non-empty array of strings. */
  public List<String> strings(String key) {
    List<?> l = list(key, -1);
    if (l == null) return null;
    List<String> out = new ArrayList<>(l.size());
    for (int k = 0; k < l.size(); k++) {
      if (!(l.get(k) instanceof String s)) {
        throw new SpecException(field(key) + "[" + k + "]", "must be a string, got " + describe(l.get(k)));
      }
      out.add(s);
    }
    return out;
  }

  /** Rejects keys nobody read: {@code optimizer.betaz: unknown key for adam (known: lr, betas, ...)}. */
  public void done(String what) {
    for (String k : map.keySet()) {
      if (!known.contains(k)) {
        throw fail(k, "unknown key for " + what + " (known: " + String.join(", ", known) + ")");
      }
    }
  }

  /** The value at key, or null when absent; marks the key as known. */
  public Object raw(String key) {
    known.add(key);
    return map.get(key);
  }

  private List<?> list(String key, int length) {
    Object v = raw(key);
    if (v == null) return null;
    if (!(v instanceof List<?> l)) throw fail(key, "must be an array, got " + describe(v));
    if (length >= 0 && l.size() != length) {
      throw fail(key, "must have " + length + " elements, got " + l.size());
    }
    if (length < 0 && l.isEmpty()) throw fail(key, "must not be empty");
    return l;
  }

  private static double check(String field, Object v, DoublePredicate ok, String must) {
    if (!(v instanceof Double d)) throw new SpecException(field, "must be a number, got " + describe(v));
    if (!Double.isFinite(d)) throw new SpecException(field, "must be finite, got " + describe(v));
    if (!ok.test(d)) throw new SpecException(field, must + ", got " + describe(v));
    return d;
  }

  private static int integer(String field, Object v, int min) {
    if (!(v instanceof Double d) || d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
      throw new SpecException(field, "must be an integer, got " + describe(v));
    }
    if (d < min) throw new SpecException(field, "must be >= " + min + ", got " + describe(v));
    return (int) (double) d;
  }

  /** A value as an error message quotes it. */
  public static String describe(Object v) {
    if (v == null) return "null";
    if (v instanceof Double d) return Json.format(d);
    if (v instanceof String s) return Json.write(s);
    if (v instanceof Boolean) return v.toString();
    String json = Json.write(v);
    return json.length() <= 60 ? json : json.substring(0, 57) + "...";
  }
}
