package io.mqttxds.agent.clients;

import java.util.ArrayList;
import java.util.Set;

import java.util.List;

/** A bounded page of the connected clients and how many there are in all. */
public final class ClientList {
    public final int total;
    public final List<ClientView> clients;

    public ClientList(int total, List<ClientView> clients) {
        this.total = total;
        this.clients = List.copyOf(clients);
    }

    /**
     * This page without the clients HiveMQ does not report as connected, and the total
     * lowered by as many: the broker's own view wins over the agent's event tracking, which
     * can lag (or miss) a disconnect.
     */
    public ClientList onlyConnected(Set<String> connectedClientIds) {
        List<ClientView> kept = new ArrayList<>(clients.size());
        for (ClientView c : clients) if (connectedClientIds.contains(c.clientId)) kept.add(c);
        return new ClientList(Math.max(kept.size(), total - (clients.size() - kept.size())), kept);
    }
}
