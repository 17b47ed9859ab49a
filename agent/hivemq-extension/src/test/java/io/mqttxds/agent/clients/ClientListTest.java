package io.mqttxds.agent.clients;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClientListTest {
    private static ClientView client(String id) {
        return new ClientView(id, 5, true, 0, false, 1_795_000_000_000L);
    }

    private static List<String> ids(ClientList list) {
        return list.clients.stream().map(c -> c.clientId).collect(Collectors.toList());
    }

    @Test
    void aClientTheRegistryStillHoldsButHiveMQReportsGoneIsNotListed() {
        ClientRegistry registry = new ClientRegistry();
        registry.connectionStarted("stays", 1, 5, true, 0, 1_000);
        registry.authenticated("stays", 1);
        registry.connectionStarted("gone", 2, 5, true, 0, 1_000);
        registry.authenticated("gone", 2);
        // No disconnect event reached the registry for "gone" (late or lost): HiveMQ's own list decides.
        ClientList answer = registry.list(10).onlyConnected(Set.of("stays"));
        assertEquals(List.of("stays"), ids(answer));
        assertEquals(1, answer.total);
    }

    @Test
    void theTotalDropsByTheClientsLeftOutOfThePage() {
        ClientList page = new ClientList(10, List.of(client("a"), client("b"), client("c")));
        ClientList answer = page.onlyConnected(Set.of("a", "c", "not-on-this-page"));
        assertEquals(List.of("a", "c"), ids(answer));
        assertEquals(9, answer.total);
    }

    @Test
    void everyClientConnectedLeavesThePageAsItWas() {
        ClientList page = new ClientList(2, List.of(client("a"), client("b")));
        ClientList answer = page.onlyConnected(Set.of("a", "b"));
        assertEquals(List.of("a", "b"), ids(answer));
        assertEquals(2, answer.total);
    }
}
