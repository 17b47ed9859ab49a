package io.mqttxds.agent.clients;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientRegistryTest {
    private final ClientRegistry registry = new ClientRegistry();

    private void connect(String id, long conn) {
        registry.connectionStarted(id, conn, 5, true, 0, 1000 + conn);
        registry.authenticated(id, conn);
    }

    private ClientView only() {
        ClientList list = registry.list(10);
        assertEquals(1, list.total);
        return list.clients.get(0);
    }

    @Test
    void listsAClientWhoseAuthenticationWasReportedBeforeItsConnectionStart() {
        registry.authenticatedBeforeStart("early");
        assertTrue(registry.connectionStarted("early", 7, 5, false, 60, 1000), "a resumed session is seeded");
        assertEquals("early", only().clientId);
        // Consumed: the next connection of that id waits for its own authentication.
        registry.disconnected("early", 7);
        assertFalse(registry.connectionStarted("early", 8, 5, true, 0, 2000));
        assertEquals(0, registry.list(10).total);
    }

    @Test
    void marksAStartedEntryWhoseAuthenticationCameWithoutItsId() {
        registry.connectionStarted("racy", 11, 5, false, 60, 1000);
        assertTrue(registry.authenticatedBeforeStart("racy"), "a resumed session is seeded");
        assertEquals("racy", only().clientId);
        assertEquals(11, registry.connectionIdOf("racy"));
    }

    @Test
    void forgetsAnEarlyAuthenticationWhenTheClientLeavesBeforeItsStart() {
        registry.authenticatedBeforeStart("gone");
        registry.disconnectedBeforeStart("gone");
        registry.connectionStarted("gone", 9, 5, true, 0, 1000);
        assertEquals(0, registry.list(10).total);
    }

    @Test
    void reconcileListsAConnectedClientItMissedAndDropsOneThatIsGone() {
        connect("listed", 1);
        registry.connectionStarted("unauthenticated", 2, 5, true, 0, 1000);
        // "ghost" is listed but HiveMQ no longer has it; "missed" is connected but unknown here.
        connect("ghost", 3);
        int repaired = registry.reconcile(java.util.Map.of("listed", 0L, "unauthenticated", 0L, "missed", 60L), 10_000, 5_000);
        assertEquals(3, repaired);
        ClientList list = registry.list(10);
        assertEquals(3, list.total);
        ClientView missed = list.clients.stream().filter(c -> c.clientId.equals("missed")).findFirst().orElseThrow();
        assertEquals(0, missed.mqttVersion, "recovered without its CONNECT: version unknown");
        assertEquals(60, missed.sessionExpirySec);
        assertFalse(registry.isConnected("ghost"));
    }

    @Test
    void reconcileLeavesYoungEntriesToTheirOwnEvents() {
        // Started 1 s ago: not yet authenticated, and not yet in HiveMQ's list either.
        registry.connectionStarted("young", 1, 5, true, 0, 9_000);
        registry.connectionStarted("fresh", 2, 5, true, 0, 9_500);
        registry.authenticated("fresh", 2);
        assertEquals(0, registry.reconcile(java.util.Map.of("young", 0L), 10_000, 5_000));
        assertFalse(registry.isConnected("young"));
        assertTrue(registry.isConnected("fresh"));
    }

    @Test
    void listsAClientOnlyOnceAuthenticated() {
        registry.connectionStarted("a", 1, 4, false, 4_294_967_295L, 1234);
        assertEquals(0, registry.list(10).total);
        assertFalse(registry.isConnected("a"));
        assertTrue(registry.authenticated("a", 1), "a session without clean start may hold subscriptions");
        ClientView v = only();
        assertEquals("a", v.clientId);
        assertEquals(4, v.mqttVersion);
        assertFalse(v.cleanStart);
        assertEquals(4_294_967_295L, v.sessionExpirySec);
        assertEquals(1234, v.connectedSinceMs);
        assertFalse(v.sharedSubscriber);
        assertTrue(registry.isConnected("a"));
    }

    @Test
    void aTakenOverConnectionsLateDisconnectDoesNotRemoveTheNewOne() {
        connect("a", 1);
        connect("a", 2);
        registry.disconnected("a", 1);
        assertEquals(2 + 1000, only().connectedSinceMs);
        registry.disconnected("a", 2);
        assertEquals(0, registry.list(10).total);
    }

    @Test
    void sharedMembershipFollowsTheGrantedSuback() {
        connect("a", 1);
        registry.subscribeReceived("a", 1, 7, List.of("plain/topic", "$share/g/t"));
        assertFalse(only().sharedSubscriber, "pending until the SUBACK");
        registry.subackSent("a", 1, 7, List.of(true, true));
        assertTrue(only().sharedSubscriber);
    }

    @Test
    void aRefusedSharedSubscriptionDoesNotCount() {
        connect("a", 1);
        registry.subscribeReceived("a", 1, 7, List.of("$share/g/t", "x"));
        registry.subackSent("a", 1, 7, List.of(false, true));
        assertFalse(only().sharedSubscriber);
    }

    @Test
    void unsubscribingTheLastSharedFilterEndsMembership() {
        connect("a", 1);
        registry.subscribeReceived("a", 1, 1, List.of("$share/g/t", "$share/h/u"));
        registry.subackSent("a", 1, 1, List.of(true, true));
        registry.unsubscribeReceived("a", 1, List.of("$share/g/t"));
        assertTrue(only().sharedSubscriber);
        registry.unsubscribeReceived("a", 1, List.of("$share/h/u", "other"));
        assertFalse(only().sharedSubscriber);
    }

    @Test
    void anUnsubscribeOvertakingItsSubackWins() {
        connect("a", 1);
        registry.subscribeReceived("a", 1, 1, List.of("$share/g/t"));
        registry.unsubscribeReceived("a", 1, List.of("$share/g/t"));
        registry.subackSent("a", 1, 1, List.of(true));
        assertFalse(only().sharedSubscriber);
    }

    @Test
    void seedingAddsResumedSharedFiltersButNotOnesUnsubscribedSince() {
        connect("a", 1);
        registry.unsubscribeReceived("a", 1, List.of("$share/g/old"));
        registry.seedSharedFilters("a", 1, List.of("$share/g/old", "plain"));
        assertFalse(only().sharedSubscriber);
        registry.seedSharedFilters("a", 1, List.of("$share/g/kept"));
        assertTrue(only().sharedSubscriber);
    }

    @Test
    void eventsOfAnOlderConnectionAreIgnored() {
        connect("a", 2);
        registry.subscribeReceived("a", 1, 1, List.of("$share/g/t"));
        registry.subackSent("a", 1, 1, List.of(true));
        registry.seedSharedFilters("a", 1, List.of("$share/g/t"));
        assertFalse(only().sharedSubscriber);
    }

    @Test
    void limitBoundsThePageButNotTheTotal() {
        for (int i = 0; i < 5; i++) connect("c" + i, i + 1);
        ClientList list = registry.list(2);
        assertEquals(5, list.total);
        assertEquals(2, list.clients.size());
    }
}
