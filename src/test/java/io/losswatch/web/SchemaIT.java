package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Optimizers;
import io.losswatch.core.problem.Problems;
import io.losswatch.core.schedule.Schedules;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code GET /api/schema}: what the readers read, served ({@code DocsTest} holds docs/runspec.md to it). */
class SchemaIT extends SharedServer {
  @Test
  void theSchemaIsServedAndNamesEveryType() throws Exception {
    TestServer.Response r = server.get("/api/schema");
    assertEquals(200, r.status());
    assertTrue(r.contentType().startsWith("application/json"));
    Map<String, Object> s = r.json();
    assertEquals(List.of("run", "optimizers", "schedules", "problems", "lr_range", "sweep", "branch"), List.copyOf(s.keySet()));
    assertEquals(Optimizers.TYPES, List.copyOf(map(s.get("optimizers")).keySet()));
    assertEquals(Schedules.TYPES, List.copyOf(map(s.get("schedules")).keySet()));
    assertEquals(Problems.TYPES, List.copyOf(map(s.get("problems")).keySet()));
    Map<String, Object> lr = option(map(s.get("optimizers")).get("sgd"), "lr");
    assertEquals(Map.of("name", "lr", "kind", "number", "required", true, "must", "must be > 0"), without(lr, "default"));
    assertTrue(lr.containsKey("default") && lr.get("default") == null, "a required option has a null default: " + lr);
    assertEquals(1e-2, option(map(s.get("optimizers")).get("adamw"), "weight_decay").get("default"));
    // the learning-rate-free ones: their authors' names and defaults, and what an absent option means where no value says it
    Map<String, Object> optimizers = map(s.get("optimizers"));
    assertEquals(1.0, option(optimizers.get("prodigy"), "lr").get("default"));
    assertEquals("√beta2", option(optimizers.get("prodigy"), "beta3").get("default_text"));
    assertEquals("inf", option(optimizers.get("dadapt_adam"), "growth_rate").get("default_text"));
    assertEquals(false, option(optimizers.get("dadapt_adam"), "decouple").get("default"));
    assertEquals(true, option(optimizers.get("prodigy"), "decouple").get("default"));
    assertEquals(0.0025, option(optimizers.get("schedulefree_adamw"), "lr").get("default"));
    assertEquals(0.9, option(optimizers.get("schedulefree_sgd"), "momentum").get("default"));
    assertEquals(List.of("lr", "momentum", "weight_decay", "d0", "growth_rate"), names(optimizers.get("dadapt_sgd")));
    Map<String, Object> total = option(map(s.get("schedules")).get("onecycle"), "total_steps");
    assertEquals("the run's steps", total.get("default_text"));
    assertEquals(List.of("min", "max"), option(map(s.get("schedules")).get("plateau"), "mode").get("choices"));
    assertEquals("problems", option(s.get("run"), "problem").get("of"));
    assertEquals(List.of("on", "rewind", "lr_factor", "max_rewinds"), names(option(s.get("run"), "guard").get("options")));
    assertEquals(List.of("from", "to", "factor", "num"), names(option(s.get("sweep"), "lr").get("options")));
    assertEquals(List.of("base", "start_lr", "end_lr", "num_steps", "mode", "smooth", "stop_factor"), names(s.get("lr_range")));
    assertEquals(List.of("at_step", "lr_factor", "lr", "name"), names(s.get("branch")));
    assertEquals(405, server.post("/api/schema", "{}").status());
  }

  /** Each option the schema says is required is: a spec without it is refused for it, one with its stand-in is not. */
  @Test
  void whatTheSchemaRequiresTheReaderRequires() {
    Map<String, Object> s = RestApi.schema();
    for (var e : map(s.get("schedules")).entrySet()) {
      Map<String, Object> sched = new LinkedHashMap<>(Map.of("type", e.getKey()));
      for (Object o : (List<?>) e.getValue()) {
        Map<?, ?> opt = (Map<?, ?>) o;
        if (Boolean.TRUE.equals(opt.get("required"))) sched.put((String) opt.get("name"), standIn(opt));
      }
      Map<String, Object> spec = Map.of("problem", "quadratic", "optimizer", Map.of("type", "sgd", "lr", 0.001),
          "steps", 100.0, "schedule", sched);
      assertNotNull(RunSpec.from(Json.parse(Json.write(spec))), e.getKey());
      for (String required : sched.keySet()) {
        if (required.equals("type")) continue;
        Map<String, Object> less = new LinkedHashMap<>(sched);
        less.remove(required);
        Map<String, Object> bad = new LinkedHashMap<>(spec);
        bad.put("schedule", less);
        try {
          RunSpec.from(Json.parse(Json.write(bad)));
          throw new AssertionError(e.getKey() + " without " + required + " was accepted");
        } catch (SpecException x) {
          assertEquals("schedule." + required, x.field());
        }
      }
    }
  }

  /** A value that passes a required option's check, for a spec that gives it. */
  private static Object standIn(Map<?, ?> opt) {
    return switch ((String) opt.get("kind")) {
      case "integers" -> List.of(10.0);
      case "integer" -> 10.0;
      case "number" -> 2.0;
      default -> throw new AssertionError("no stand-in for " + opt);
    };
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> option(Object options, String name) {
    for (Object o : (List<?>) options) if (name.equals(((Map<?, ?>) o).get("name"))) return (Map<String, Object>) o;
    throw new AssertionError("no option " + name + " in " + options);
  }

  private static List<String> names(Object options) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) options) out.add((String) ((Map<?, ?>) o).get("name"));
    return out;
  }

  private static Map<String, Object> without(Map<String, Object> m, String key) {
    Map<String, Object> out = new LinkedHashMap<>(m);
    out.remove(key);
    return out;
  }
}
