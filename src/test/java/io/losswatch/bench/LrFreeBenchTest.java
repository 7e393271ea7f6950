package io.losswatch.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import java.io.IOException;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lr-free bench drives auto_lr as {@code trace} does (and so as the server does): its rows are trace's, bit for
 * bit, with lr changes, look-aheads and rewinds on the way.
 */
class LrFreeBenchTest {
  @ParameterizedTest
  @ValueSource(strings = {
      "{'problem':'logreg','optimizer':{'type':'adam','lr':0.01},'steps':400,'auto_lr':true}",
      "{'problem':'rosenbrock','optimizer':{'type':'adam','lr':0.001},'steps':300,'auto_lr':true}",
      "{'problem':'quadratic','optimizer':{'type':'adam','lr':1000},'steps':300,'auto_lr':true,'guard':{'on':['diverging','non_finite']}}",
  })
  void itsAutoLrRunIsTracesRun(String json) throws IOException {
    RunSpec spec = RunSpec.parse(json.replace('\'', '"'));
    LrFreeBench.Driven d = LrFreeBench.drive(spec);
    StringWriter trace = new StringWriter();
    TraceCommand.write(spec, trace);
    assertEquals(trace.toString(), d.csv());
    assertTrue(d.outcome().lookAheadSteps() > 0 || d.outcome().rewinds() > 0, "something happened on the way: " + d.outcome());
  }
}
