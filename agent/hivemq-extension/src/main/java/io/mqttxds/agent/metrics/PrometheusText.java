package io.mqttxds.agent.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders HiveMQ's Dropwizard metrics in the Prometheus text format 0.0.4 under the names
 * the HiveMQ Prometheus extension gives them, so dashboards and mqtt-xds's scraper
 * (src/scraping/hivemq-signals.ts) read either endpoint unchanged. That extension exports
 * through the Prometheus Java simpleclient's Dropwizard bridge, whose conventions are:
 *
 * <ul>
 *   <li>name: the Dropwizard name with every character other than letters, digits, '_'
 *       and ':' replaced by '_' (a leading digit too): {@code com.hivemq.mqtt.connection.not-writable.current}
 *       becomes {@code com_hivemq_mqtt_connection_not_writable_current};
 *   <li>gauges (numbers and booleans as 1/0) and counters: a Prometheus gauge under that name;
 *   <li>meters: a counter named {@code <name>_total} holding the meter's count;
 *   <li>histograms and timers: a summary with quantiles 0.5, 0.75, 0.95, 0.98, 0.99, 0.999
 *       and {@code <name>_count}, no {@code _sum}; timer values in seconds.
 * </ul>
 *
 * Values are written as Java's {@code Double.toString} spells them ({@code 5.0}, {@code 1.2E7}),
 * as the simpleclient does. Where two metrics would get the same name, the first in
 * Dropwizard's order is kept and a comment names the one left out.
 *
 * <p>The agent's own series ({@link AgentSeries}: CPU, the container's CPU limit, GC) follow
 * HiveMQ's under the same rule, so a name HiveMQ already exports (process_cpu_seconds_total,
 * say) keeps HiveMQ's value.
 */
public final class PrometheusText {
    private static final double[] QUANTILES = {0.5, 0.75, 0.95, 0.98, 0.99, 0.999};
    private static final String[] QUANTILE_LABELS = {"0.5", "0.75", "0.95", "0.98", "0.99", "0.999"};
    private static final double NANOS_PER_SECOND = 1_000_000_000.0;

    private PrometheusText() {}

    public static String render(MetricRegistry registry) {
        return render(registry, List.of());
    }

    /** HiveMQ's metrics, then the agent's own series after them. */
    @SuppressWarnings("rawtypes") // Dropwizard's own API hands out raw Gauges
    public static String render(MetricRegistry registry, List<Series> appended) {
        Page page = new Page();
        for (Map.Entry<String, Gauge> e : registry.getGauges().entrySet()) gauge(page, e.getKey(), e.getValue());
        for (Map.Entry<String, Counter> e : registry.getCounters().entrySet()) counter(page, e.getKey(), e.getValue());
        for (Map.Entry<String, Histogram> e : registry.getHistograms().entrySet()) {
            summary(page, e.getKey(), "histogram", e.getValue().getSnapshot(), e.getValue().getCount(), 1.0);
        }
        for (Map.Entry<String, Timer> e : registry.getTimers().entrySet()) {
            summary(page, e.getKey(), "timer", e.getValue().getSnapshot(), e.getValue().getCount(), 1.0 / NANOS_PER_SECOND);
        }
        for (Map.Entry<String, Meter> e : registry.getMeters().entrySet()) meter(page, e.getKey(), e.getValue());
        for (Series s : appended) appended(page, s);
        return page.text.toString();
    }

    /** The simpleclient's sanitising rule (see the class comment). */
    public static String sanitize(String dropwizardName) {
        char[] out = dropwizardName.toCharArray();
        for (int i = 0; i < out.length; i++) {
            char c = out[i];
            boolean keep = c == ':' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
            if (!keep) out[i] = '_';
        }
        return out.length == 0 ? "_" : new String(out);
    }

    /** Java's spelling of a double, with Prometheus's NaN and ±Inf. */
    public static String formatValue(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (v == Double.POSITIVE_INFINITY) return "+Inf";
        if (v == Double.NEGATIVE_INFINITY) return "-Inf";
        return Double.toString(v);
    }

    private static void gauge(Page page, String dropwizardName, Gauge<?> gauge) {
        Object value;
        try {
            value = gauge.getValue();
        } catch (RuntimeException e) {
            return; // A gauge that cannot read its source right now is left out of this page only.
        }
        double v;
        if (value instanceof Number) v = ((Number) value).doubleValue();
        else if (value instanceof Boolean) v = ((Boolean) value) ? 1 : 0;
        else return; // Strings, collections, null: not a number Prometheus could hold.
        single(page, dropwizardName, "gauge", sanitize(dropwizardName), "gauge", v);
    }

    private static void counter(Page page, String dropwizardName, Counter counter) {
        // A Dropwizard counter can go down (inc/dec), so it is a Prometheus gauge.
        single(page, dropwizardName, "counter", sanitize(dropwizardName), "gauge", counter.getCount());
    }

    private static void meter(Page page, String dropwizardName, Meter meter) {
        single(page, dropwizardName, "meter", sanitize(dropwizardName) + "_total", "counter", meter.getCount());
    }

    private static void single(Page page, String dropwizardName, String kind, String name, String type, double value) {
        if (!page.claim(dropwizardName, List.of(name))) return;
        page.header(name, kind, dropwizardName, type);
        page.sample(name, null, null, value);
    }

    private static void appended(Page page, Series s) {
        if (!page.claim("agent series " + s.name, List.of(s.name))) return;
        page.text.append("# HELP ").append(s.name).append(' ').append(escapeHelp(s.help)).append('\n');
        page.text.append("# TYPE ").append(s.name).append(' ').append(s.type).append('\n');
        page.sample(s.name, s.labelName, s.labelValue, s.value);
    }

    private static void summary(Page page, String dropwizardName, String kind, Snapshot snapshot, long count, double factor) {
        String name = sanitize(dropwizardName);
        if (!page.claim(dropwizardName, List.of(name, name + "_count"))) return;
        page.header(name, kind, dropwizardName, "summary");
        double[] values = {
            snapshot.getMedian(), snapshot.get75thPercentile(), snapshot.get95thPercentile(),
            snapshot.get98thPercentile(), snapshot.get99thPercentile(), snapshot.get999thPercentile(),
        };
        for (int i = 0; i < QUANTILES.length; i++) page.sample(name, "quantile", QUANTILE_LABELS[i], values[i] * factor);
        page.sample(name + "_count", null, null, count);
    }

    /** The text being built and the sample names already on it. */
    private static final class Page {
        final StringBuilder text = new StringBuilder(64 * 1024);
        final Set<String> names = new HashSet<>();

        /** Reserves every sample name of one family, or none when any is taken. */
        boolean claim(String dropwizardName, List<String> sampleNames) {
            List<String> taken = new ArrayList<>();
            for (String n : sampleNames) if (names.contains(n)) taken.add(n);
            if (!taken.isEmpty()) {
                text.append("# skipped ").append(oneLine(dropwizardName)).append(": ").append(String.join(", ", taken))
                        .append(" already exported from another metric\n");
                return false;
            }
            names.addAll(sampleNames);
            return true;
        }

        void header(String name, String kind, String dropwizardName, String type) {
            text.append("# HELP ").append(name).append(" Dropwizard ").append(kind).append(' ')
                    .append(escapeHelp(dropwizardName)).append('\n');
            text.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        }

        void sample(String name, String labelName, String labelValue, double value) {
            text.append(name);
            if (labelName != null) text.append('{').append(labelName).append("=\"").append(escapeLabel(labelValue)).append("\"}");
            text.append(' ').append(formatValue(value)).append('\n');
        }
    }

    private static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    private static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
