package io.mqttxds.agent.api;

import io.mqttxds.agent.clients.ClientList;
import io.mqttxds.agent.clients.Disconnector;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the socket tests of the agent's HTTP server share: a broker with no clients, and reading one answer. */
final class ApiTestSupport {
    private ApiTestSupport() {
    }

    /** A ready broker with no clients; a disconnect finds nobody. */
    static final AgentApi.Broker EMPTY_BROKER = new AgentApi.Broker() {
        @Override
        public boolean ready() {
            return true;
        }

        @Override
        public ClientList clients(int limit) {
            return new ClientList(0, List.of());
        }

        @Override
        public Disconnector.Outcome disconnect(List<String> clientIds, String reason) {
            return new Disconnector.Outcome(List.of(), clientIds, Map.of());
        }

        @Override
        public String metrics() {
            return "";
        }
    };

    /** One whole answer's status line and headers, its body consumed by Content-Length. */
    static String answerHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("the connection closed mid-answer after: " + head);
            head.append((char) b);
        }
        String lower = head.toString().toLowerCase(Locale.ROOT);
        int at = lower.indexOf("content-length:");
        if (at >= 0) {
            int length = Integer.parseInt(lower.substring(at + 15, lower.indexOf('\r', at)).trim());
            if (in.readNBytes(length).length < length) throw new IOException("the body ended early");
        }
        return head.toString();
    }
}
