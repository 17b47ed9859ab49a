package io.mqttxds.agent.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.UniformReservoir;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest {
    private final MetricRegistry registry = new MetricRegistry();

    @Test
    void sanitisesAsTheSimpleclientDoes() {
        assertEquals("com_hivemq_mqtt_connection_not_writable_current",
                PrometheusText.sanitize("com.hivemq.mqtt.connection.not-writable.current"));
        assertEquals("_xa:b_c", PrometheusText.sanitize("1xa:b c"));
        assertEquals("a1", PrometheusText.sanitize("a1"));
    }

    @Test
    void countersAndGaugesBecomeGauges() {
        registry.counter("com.hivemq.messages.incoming.publish.count").inc(42);
        registry.register("com.hivemq.networking.connections.current", (Gauge<Integer>) () -> 3);
        registry.register("flag", (Gauge<Boolean>) () -> true);
        registry.register("text", (Gauge<String>) () -> "not a number");
        String page = PrometheusText.render(registry);
        assertTrue(page.contains("# TYPE com_hivemq_messages_incoming_publish_count gauge\ncom_hivemq_messages_incoming_publish_count 42.0\n"), page);
        assertTrue(page.contains("# TYPE com_hivemq_networking_connections_current gauge\ncom_hivemq_networking_connections_current 3.0\n"), page);
        assertTrue(page.contains("\nflag 1.0\n"), page);
        assertFalse(page.contains("text"), page);
        assertTrue(page.contains("# HELP com_hivemq_messages_incoming_publish_count Dropwizard counter com.hivemq.messages.incoming.publish.count\n"), page);
    }

    @Test
    void metersBecomeTotalCounters() {
        registry.meter("com.hivemq.messages.incoming.publish.rate").mark(5);
        String page = PrometheusText.render(registry);
        assertTrue(page.contains("# TYPE com_hivemq_messages_incoming_publish_rate_total counter\n"
                + "com_hivemq_messages_incoming_publish_rate_total 5.0\n"), page);
    }

    @Test
    void timersBecomeSummariesInSeconds() {
        Timer timer = new Timer(new UniformReservoir());
        registry.register("t", timer);
        timer.update(2, TimeUnit.SECONDS);
        String page = PrometheusText.render(registry);
        assertTrue(page.contains("# TYPE t summary\nt{quantile=\"0.5\"} 2.0\nt{quantile=\"0.75\"} 2.0\nt{quantile=\"0.95\"} 2.0\n"
                + "t{quantile=\"0.98\"} 2.0\nt{quantile=\"0.99\"} 2.0\nt{quantile=\"0.999\"} 2.0\nt_count 1.0\n"), page);
        assertFalse(page.contains("t_sum"), page);
    }

    @Test
    void histogramsKeepTheirUnit() {
        Histogram h = registry.histogram("h-size");
        h.update(1500);
        String page = PrometheusText.render(registry);
        assertTrue(page.contains("h_size{quantile=\"0.99\"} 1500.0\n"), page);
        assertTrue(page.contains("h_size_count 1.0\n"), page);
    }

    @Test
    void aNameCollisionKeepsTheFirstAndSaysSo() {
        registry.counter("a.b").inc();
        registry.counter("a-b").inc(2);
        registry.histogram("x");
        registry.counter("x.count").inc();
        String page = PrometheusText.render(registry);
        // Dropwizard sorts names: "a-b" comes before "a.b" and is the one exported.
        assertTrue(page.contains("\na_b 2.0\n"), page);
        assertEquals(page.indexOf("# TYPE a_b "), page.lastIndexOf("# TYPE a_b "), "one TYPE line per name");
        assertTrue(page.contains("# skipped a.b: a_b already exported from another metric"), page);
        // Gauges and counters come before histograms, so the counter x.count wins over x's x_count.
        assertTrue(page.contains("# skipped x: x_count already exported"), page);
    }

    @Test
    void spellsSpecialValuesForPrometheus() {
        assertEquals("NaN", PrometheusText.formatValue(Double.NaN));
        assertEquals("+Inf", PrometheusText.formatValue(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", PrometheusText.formatValue(Double.NEGATIVE_INFINITY));
        assertEquals("1.2E7", PrometheusText.formatValue(12_000_000));
    }

    @Test
    void aGaugeThatThrowsIsLeftOut() {
        registry.register("broken", (Gauge<Long>) () -> {
            throw new IllegalStateException("source gone");
        });
        registry.register(MetricRegistry.name("ok"), new Counter());
        String page = PrometheusText.render(registry);
        assertFalse(page.contains("broken"), page);
        assertTrue(page.contains("ok 0.0"), page);
    }
}
