package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import io.losswatch.core.optim.Adam;
import io.losswatch.core.optim.Sgd;
import io.losswatch.core.schedule.OneCycle;
import io.losswatch.core.schedule.Plateau;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunSpecTest {
  private static final String P = "\"problem\":\"quadratic\",\"steps\":10";

  @Test
  void defaultsAreTorchs() {
    RunSpec s = RunSpec.parse("{\"problem\":\"rosenbrock\",\"optimizer\":\"adamw\",\"steps\":5}");
    assertEquals(new Adam.Config(1e-3, 0.9, 0.999, 1e-8, 1e-2, false, true), s.optimizer());
    assertEquals("constant", s.schedule().type());
    assertEquals("rosenbrock adamw lr=0.001", s.name());

    RunSpec sgd = RunSpec.parse("{" + P + ",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"name\":\"mine\","
        + "\"schedule\":{\"type\":\"plateau\"}}");
    assertEquals(new Sgd.Config(0.1, 0, 0, false, 0), sgd.optimizer());
    assertEquals(new Plateau.Config(false, 0.1, 10, 1e-4, false, 0, 0, 1e-8), sgd.schedule());
    assertEquals("mine", sgd.name());
  }

  @Test
  void oneCycleTotalStepsDefaultsToTheRunsSteps() {
    RunSpec s = RunSpec.parse("{" + P + ",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
        + "\"schedule\":{\"type\":\"onecycle\",\"max_lr\":1}}");
    assertEquals(10, ((OneCycle.Config) s.schedule()).totalSteps());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "{'problem':'quadratic','optimizer':{'type':'sgd','lr':-1},'steps':10}|optimizer.lr: must be > 0, got -1",
      "{'problem':'quadratic','optimizer':{'type':'sgd'},'steps':10}|optimizer.lr: is required",
      "{'problem':'quadratic','optimizer':{'type':'sgd','lr':'0.1'},'steps':10}|optimizer.lr: must be a number, got \"0.1\"",
      "{'problem':'quadratic','optimizer':{'type':'sgd','lr':1e400},'steps':10}|optimizer.lr: must be finite, got Infinity",
      "{'problem':'quadratic','optimizer':{'type':'adamx'},'steps':10}|optimizer.type: must be one of sgd, adam, adamw, rmsprop, adagrad, prodigy, dadapt_adam, dadapt_sgd, schedulefree_adamw, schedulefree_sgd, got \"adamx\"",
      "{'problem':'quadratic','optimizer':{'type':'adam','betaz':[0.9,0.9]},'steps':10}|optimizer.betaz: unknown key for adam",
      "{'problem':'quadratic','optimizer':{'type':'adam','betas':[0.9,0.9,0.9]},'steps':10}|optimizer.betas: must have 2 elements, got 3",
      "{'problem':'quadratic','optimizer':{'type':'adam','betas':[1,0.9]},'steps':10}|optimizer.betas[0]: must be in [0, 1), got 1",
      "{'problem':'quadratic','optimizer':{'type':'adam','amsgrad':1},'steps':10}|optimizer.amsgrad: must be true or false, got 1",
      "{'problem':'quadratic','optimizer':{'type':'sgd','lr':0.1,'nesterov':true},'steps':10}|optimizer.nesterov: requires momentum > 0 and dampening = 0",
      "{'problem':'quadratic','optimizer':{'type':'rmsprop','momentum':-0.5},'steps':10}|optimizer.momentum: must be >= 0, got -0.5",
      "{'problem':'quadratic','optimizer':{'type':'adagrad','eps':-1},'steps':10}|optimizer.eps: must be >= 0, got -1",
      "{'problem':'quadratic','optimizer':'adam'}|steps: is required",
      "{'problem':'quadratic','optimizer':'adam','steps':0}|steps: must be >= 1, got 0",
      "{'problem':'quadratic','optimizer':'adam','steps':1.5}|steps: must be an integer, got 1.5",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'stepz':1}|stepz: unknown key for a run spec",
      "{'optimizer':'adam','steps':10}|problem: is required",
      "{'problem':'quadratic','steps':10}|optimizer: is required",
      "{'problem':42,'optimizer':'adam','steps':10}|problem: must be an object, got 42",
      "{'problem':{'type':'mlp','hidden':0},'optimizer':'adam','steps':10}|problem.hidden: must be >= 1, got 0",
      "{'problem':{'type':'quadratic','x0':[]},'optimizer':'adam','steps':10}|problem.x0: must not be empty",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'cosin'}}|schedule.type: must be one of",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'cosine'}}|schedule.T_max: is required",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'step','step_size':0}}|schedule.step_size: must be >= 1, got 0",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'multistep','milestones':[3,-1]}}|schedule.milestones[1]: must be >= 0, got -1",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'plateau','factor':1}}|schedule.factor: must be in (0, 1), got 1",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'plateau','mode':'mid'}}|schedule.mode: must be one of \"min\", \"max\", got \"mid\"",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'onecycle'}}|schedule.max_lr: is required",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'onecycle','max_lr':1,'total_steps':5}}|schedule.total_steps: must be >= the run's steps (10), got 5",
      "{'problem':'quadratic','optimizer':'adagrad','steps':10,'schedule':{'type':'onecycle','max_lr':1}}|schedule.cycle_momentum: adagrad has no momentum or betas to cycle",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'warmup_cosine','warmup_steps':10}}|schedule.warmup_steps: warmup_steps must be < total_steps",
      "{'problem':'quadratic','optimizer':'adam','steps':10,'schedule':{'type':'linear','start_factor':0}}|schedule.start_factor: must be in (0, 1], got 0",
      "[1,2]|a run spec must be a JSON object, got [1,2]",
      "{'problem':'quadratic',|invalid JSON: unexpected end of input",
      "{'problem':'quadratic','problem':'ellipse'}|problem: duplicate key",
  })
  void rejectsWithTheFieldAndTheValue(String spec, String expected) {
    SpecException e = assertThrows(SpecException.class, () -> RunSpec.parse(spec.replace('\'', '"')));
    assertTrue(e.getMessage().startsWith(expected), () -> "got: " + e.getMessage());
    int colon = expected.indexOf(": ");
    if (colon > 0 && !expected.startsWith("invalid") && !expected.startsWith("a run")) {
      assertEquals(expected.substring(0, colon), e.field());
    }
  }

  @Test
  void aNameIsAtMost256CharactersAndASpecAtMost4KiB() {
    String spec = "{" + P + ",\"optimizer\":\"adam\",\"name\":\"%s\"}";
    assertEquals(256, RunSpec.parse(spec.formatted("n".repeat(256))).name().length());
    String emoji = "\uD83D\uDE00".repeat(256);   // 256 characters, 512 UTF-16 units
    assertEquals(emoji, RunSpec.parse(spec.formatted(emoji)).name(), "characters are code points");
    SpecException e = assertThrows(SpecException.class, () -> RunSpec.parse(spec.formatted("n".repeat(257))));
    assertEquals("name", e.field());
    assertEquals("name: at most 256 characters, got 257", e.getMessage());
    e = assertThrows(SpecException.class, () -> RunSpec.parse(spec.formatted("n".repeat(60_000))));
    assertEquals("name: at most 256 characters, got 60000", e.getMessage());

    e = assertThrows(SpecException.class, () -> RunSpec.parse(ofBytes(4097, "")));
    assertEquals("", e.field());
    assertEquals("a run spec must be at most 4096 bytes as compact JSON, got 4097", e.getMessage());
    assertEquals(4096, Json.write(RunSpec.parse(ofBytes(4096, "")).json()).getBytes(StandardCharsets.UTF_8).length);
    RunSpec.parse(ofBytes(4096, "    "));   // whitespace is not counted
  }

  /** A valid spec of exactly {@code bytes} bytes as compact UTF-8 JSON (a name of two-byte é, x0 ones). */
  private static String ofBytes(int bytes, String space) {
    String head = "{\"name\":\"" + "é".repeat(200) + "\"," + space + "\"optimizer\":\"adam\",\"steps\":1,"
        + "\"problem\":{\"type\":\"quadratic\",\"x0\":[";
    int left = bytes - (head.length() - space.length() + 200) - "]}}".length();   // é is one char, two bytes
    StringBuilder x0 = new StringBuilder(left % 2 == 0 ? "10" : "1");   // "1,1,...": n ones take 2n - 1 bytes
    while (x0.length() < left) x0.append(",1");
    return head + x0 + "]}}";
  }

  @Test
  void cycleMomentumFalseLetsAdagradRunOneCycle() {
    RunSpec s = RunSpec.parse("{\"problem\":\"quadratic\",\"optimizer\":\"adagrad\",\"steps\":10,"
        + "\"schedule\":{\"type\":\"onecycle\",\"max_lr\":1,\"cycle_momentum\":false}}");
    Trainer t = new Trainer(s);
    t.step();
    assertEquals(1.0 / 25, t.lr(), 1e-15, "one-cycle starts at max_lr / div_factor");
  }
}
