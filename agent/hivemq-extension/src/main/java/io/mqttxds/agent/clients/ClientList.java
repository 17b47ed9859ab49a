package io.mqttxds.agent.clients;

import java.util.List;

/** A bounded page of the connected clients and how many there are in all. */
public final class ClientList {
    public final int total;
    public final List<ClientView> clients;

    public ClientList(int total, List<ClientView> clients) {
        this.total = total;
        this.clients = List.copyOf(clients);
    }
}
