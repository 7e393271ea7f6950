package io.losswatch.core.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
 *
 * <p>The readers are also the one declaration of the options: {@link #describing} gives Options that read
 * nothing, note each option an accessor is asked for (its name, kind, default, whether it is required, its
 * allowed values and its check) in {@link #described()}, and answer the default, or for a required option a
 * value that passes its check, so that a reader runs to its end. {@code GET /api/schema} is made of that.
 */
public final class Options {
  /** Tried in turn for a required number being described: the first its check accepts stands in for it. */
  private static final double[] STAND_INS = {1, 0.5, 0.1, 10, 2, 0.01, 0.001, 100, 1e-6};
  private final String path;
  private final Map<String, Object> map;
  private final Set<String> known = new LinkedHashSet<>();
  /** The options noted so far when describing, else null. */
  private final List<Map<String, Object>> described;
  /** What the next noted option's absence means, when no value says it (e.g. "the run's steps"). */
  private String byDefault;

  private Options(String path, Map<String, Object> map) {
    this(path, map, null);
  }

  private Options(String path, Map<String, Object> map, List<Map<String, Object>> described) {
    this.path = path;
    this.map = map;
    this.described = described;
  }

  /**
   * Options that describe instead of reading: {@code given} holds what the reader must be told to get going
   * (say {@code {"type": "adam"}}), every other option is absent and noted when asked for.
   */
  public static Options describing(String path, Map<String, Object> given) {
    return new Options(path, Map.copyOf(given), new ArrayList<>());
  }

  /** Whether these Options only describe (see {@link #describing}). */
  public boolean describing() {
    return described != null;
  }

  /**
   * The options noted, in the order read: each {@code {"name", "kind", "default", "required"}} and, when they
   * apply, {@code "choices"}, {@code "must"}, {@code "default_text"}, {@code "options"} (an object's own) and
   * {@code "of"} (where an object's options are described instead).
   */
  public List<Map<String, Object>> described() {
    if (described == null) throw new IllegalStateException("not describing");
    return described;
  }

  /**
   * Says, for a description, what the next option's absence means when its default value does not say it
   * ({@code o.byDefault("the run's steps").integer("total_steps", runSteps, 1)}); no effect on reading.
   */
  public Options byDefault(String text) {
    byDefault = text;
    return this;
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
    Object v = raw("type");
    if (v != null && !(v instanceof String)) throw fail("type", "must be a string, got " + describe(v));
    String t = (String) v;
    if (t == null) throw fail("type", "is required (one of " + String.join(", ", allowed) + ")");
    if (!allowed.contains(t)) {
      throw fail("type", "must be one of " + String.join(", ", allowed) + ", got \"" + t + "\"");
    }
    return t;
  }

  public String string(String key, String def) {
    note(key, "string", def, false, null);
    return str(key, def);
  }

  private String str(String key, String def) {
    Object v = raw(key);
    if (v == null) return def;
    if (!(v instanceof String s)) throw fail(key, "must be a string, got " + describe(v));
    return s;
  }

  /** A string restricted to a few values, as torch's {@code mode="min"|"max"}. */
  public String choice(String key, String def, String... allowed) {
    Map<String, Object> e = note(key, "choice", def, def == null, null);
    if (e != null) {
      e.put("choices", List.of(allowed));
      return def == null ? allowed[0] : def;
    }
    String s = str(key, def);
    if (s == null) throw fail(key, "is required (one of \"" + String.join("\", \"", allowed) + "\")");
    if (!List.of(allowed).contains(s)) {
      throw fail(key, "must be one of \"" + String.join("\", \"", allowed) + "\", got \"" + s + "\"");
    }
    return s;
  }

  public boolean bool(String key, boolean def) {
    note(key, "boolean", def, false, null);
    Object v = raw(key);
    if (v == null) return def;
    if (!(v instanceof Boolean b)) throw fail(key, "must be true or false, got " + describe(v));
    return b;
  }

  /** A required finite number that passes {@code ok}, else "{@code must ...}, got v". */
  public double number(String key, DoublePredicate ok, String must) {
    if (note(key, "number", null, true, must) != null) {
      for (double x : STAND_INS) if (ok.test(x)) return x;
      throw new IllegalStateException(field(key) + ": no stand-in passes " + must);
    }
    Object v = raw(key);
    if (v == null) throw fail(key, "is required");
    return check(field(key), v, ok, must);
  }

  /** An optional finite number that passes {@code ok}; a NaN default is described as none. */
  public double number(String key, double def, DoublePredicate ok, String must) {
    note(key, "number", Double.isNaN(def) ? null : def, false, must);
    Object v = raw(key);
    if (v == null) return def;
    return check(field(key), v, ok, must);
  }

  /** An optional integer (a JSON number with no fraction) of at least {@code min}. */
  public int integer(String key, int def, int min) {
    note(key, "integer", def < min ? null : def, false, "must be >= " + min);
    Object v = raw(key);
    if (v == null) return def;
    return integer(field(key), v, min);
  }

  /** An optional integer in [{@code min}, {@code max}]: "{@code at most max, got v}" above it. */
  public int integer(String key, int def, int min, int max) {
    note(key, "integer", def < min ? null : def, false, "must be in [" + min + ", " + max + "]");
    Object v = raw(key);
    if (v == null) return def;
    if (v instanceof Double d && d == Math.rint(d) && d > max) {
      throw fail(key, "at most " + max + ", got " + describe(v));
    }
    return integer(field(key), v, min);
  }

  /** A required integer of at least {@code min}. */
  public int integer(String key, int min) {
    if (note(key, "integer", null, true, "must be >= " + min) != null) return Math.max(min, 10);
    Object v = raw(key);
    if (v == null) throw fail(key, "is required");
    return integer(field(key), v, min);
  }

  /** An optional array of finite numbers, each passing {@code ok}, of the given length (or any, if -1). */
  public double[] numbers(String key, double[] def, int length, DoublePredicate ok, String must) {
    note(key, "numbers", def == null ? null : Arrays.stream(def).boxed().toList(), false,
        length < 0 ? "each " + must : length + " numbers, each " + must);
    List<?> l = list(key, length);
    if (l == null) return def == null ? null : def.clone();
    double[] out = new double[l.size()];
    for (int k = 0; k < out.length; k++) out[k] = check(field(key) + "[" + k + "]", l.get(k), ok, must);
    return out;
  }

  /** An optional array of integers of at least {@code min}. */
  public int[] integers(String key, int[] def, int min) {
    note(key, "integers", def == null ? null : Arrays.stream(def).boxed().toList(), false, "each must be >= " + min);
    return ints(key, def, min);
  }

  /** A required array of integers of at least {@code min}; absent, it fails with {@code missing} ("is required"). */
  public int[] integers(String key, int min, String missing) {
    if (note(key, "integers", null, true, "each must be >= " + min) != null) return new int[] {Math.max(min, 10)};
    int[] out = ints(key, null, min);
    if (out == null) throw fail(key, missing);
    return out;
  }

  private int[] ints(String key, int[] def, int min) {
    List<?> l = list(key, -1);
    if (l == null) return def == null ? null : def.clone();
    int[] out = new int[l.size()];
    for (int k = 0; k < out.length; k++) out[k] = integer(field(key) + "[" + k + "]", l.get(k), min);
    return out;
  }

  /** An optional non-empty array of strings. */
  public List<String> strings(String key) {
    return strings(key, null, null);
  }

  /** An optional non-empty array of strings, each one of {@code allowed} (if not null): "must be one of [a, b], got "c"". */
  public List<String> strings(String key, List<String> def, List<String> allowed) {
    Map<String, Object> e = note(key, "strings", def, false, null);
    if (e != null && allowed != null) e.put("choices", allowed);
    List<?> l = list(key, -1);
    if (l == null) return def;
    List<String> out = new ArrayList<>(l.size());
    for (int k = 0; k < l.size(); k++) {
      if (!(l.get(k) instanceof String s)) {
        throw new SpecException(field(key) + "[" + k + "]", "must be a string, got " + describe(l.get(k)));
      }
      if (allowed != null && !allowed.contains(s)) {
        throw new SpecException(field(key) + "[" + k + "]", "must be one of " + allowed + ", got " + describe(s));
      }
      out.add(s);
    }
    return out;
  }

  /**
   * An optional nested object ({@code "guard": {...}}): its Options, or null when absent. Described, the
   * object's options are noted as its entry's {@code options}, and the Options returned describe them.
   */
  public Options section(String key) {
    return section(key, false, null);
  }

  /** A nested object, required or not; {@code must} says, for a description, what it may be besides. */
  public Options section(String key, boolean required, String must) {
    Map<String, Object> e = note(key, "object", null, required, must);
    if (e != null) {
      Options inner = new Options(field(key), Map.of(), new ArrayList<>());
      e.put("options", inner.described);
      return inner;
    }
    Object v = raw(key);
    if (v == null) {
      if (required) throw fail(key, "is required");
      return null;
    }
    return of(field(key), v);
  }

  /**
   * A nested object with a {@code type} ({@code "optimizer": {"type": "adam", ...}}, or its bare string), or null
   * when absent and not required; described, its entry names where its types are described ({@code of}), and
   * a required one reads as its first type, unnoted.
   */
  public Options typed(String key, String of, List<String> types, boolean required) {
    Map<String, Object> e = note(key, "object", null, required, "an object with a type: " + String.join(", ", types));
    if (e != null) {
      e.put("of", of);
      return required ? new Options(field(key), Map.of("type", types.get(0)), new ArrayList<>()) : null;
    }
    Object v = raw(key);
    if (v == null) {
      if (required) throw fail(key, "is required");
      return null;
    }
    return of(field(key), v);
  }

  /**
   * A required JSON object taken as it is (a whole RunSpec, say): not an object, it fails with
   * "{@code requirement}, got v"; described, its entry names where it is described ({@code of}).
   */
  @SuppressWarnings("unchecked")
  public Map<String, Object> object(String key, String of, String requirement) {
    Map<String, Object> e = note(key, "object", null, true, null);
    if (e != null) {
      e.put("of", of);
      return Map.of();
    }
    Object v = raw(key);
    if (!(v instanceof Map)) throw fail(key, requirement + ", got " + describe(v));
    return (Map<String, Object>) v;
  }

  /** When describing, notes an option and answers its entry (to add to); else null. */
  /** Notes an optional option its reader reads by hand ({@link #raw}), for the description: its kind and its check. */
  public void declare(String key, String kind, String must) {
    note(key, kind, null, false, must);
  }

  private Map<String, Object> note(String key, String kind, Object def, boolean required, String must) {
    String text = byDefault;
    byDefault = null;
    if (described == null) return null;
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("name", key);
    e.put("kind", kind);
    e.put("default", text == null ? def : null);
    e.put("required", required);
    if (must != null) e.put("must", must);
    if (text != null) e.put("default_text", text);
    known.add(key);
    described.add(e);
    return e;
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
