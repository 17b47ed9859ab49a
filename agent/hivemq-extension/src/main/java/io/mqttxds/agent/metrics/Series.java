package io.mqttxds.agent.metrics;

/**
 * One metric family of the agent's own, with its single sample: what {@link AgentSeries}
 * measures and {@link PrometheusText} appends after HiveMQ's metrics.
 */
public final class Series {
    public static final String GAUGE = "gauge";
    public static final String COUNTER = "counter";

    public final String name;
    public final String type;
    public final String help;
    /** The sample's one label, or null for an unlabelled sample. */
    public final String labelName;
    public final String labelValue;
    public final double value;

    private Series(String name, String type, String help, String labelName, String labelValue, double value) {
        this.name = name;
        this.type = type;
        this.help = help;
        this.labelName = labelName;
        this.labelValue = labelValue;
        this.value = value;
    }

    public static Series gauge(String name, String help, double value) {
        return new Series(name, GAUGE, help, null, null, value);
    }

    public static Series counter(String name, String help, double value) {
        return new Series(name, COUNTER, help, null, null, value);
    }

    /** An info-style gauge: value 1, the information in the label. */
    public static Series info(String name, String help, String labelName, String labelValue) {
        return new Series(name, GAUGE, help, labelName, labelValue, 1);
    }

    @Override
    public String toString() {
        return labelName == null ? name + " " + value : name + "{" + labelName + "=\"" + labelValue + "\"} " + value;
    }
}
