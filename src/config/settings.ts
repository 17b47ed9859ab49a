// The settings table: every flag, environment variable and config-file key the server
// reads, assembled from the areas' rows, with lookups by key, flag and variable.
import { ENV_PREFIX, type Setting } from './setting-fields';
import { BALANCING_SETTINGS, REBALANCE_SETTINGS } from './settings-balancing';
import { DISCOVERY_SETTINGS, LEADER_ELECTION_SETTINGS } from './settings-discovery';
import { ENVOY_SETTINGS, ENVOY_VIEW_SETTINGS } from './settings-envoy';
import { SERVER_SETTINGS, TIMING_SETTINGS } from './settings-servers';

export const CONFIG_FLAG = '--config';
export const CONFIG_ENV = `${ENV_PREFIX}CONFIG`;

/**
 * Environment variables under our prefix that a sub-command reads and the server does
 * not. They are declared here, with the settings, so the server never refuses one that an
 * operator exported for the CLI.
 */
export const COMMAND_ENV: Readonly<Record<string, string>> = {
  [`${ENV_PREFIX}ADMIN_URL`]:
    'mqtt-xds status, proxy-status, config-dump and drain: the admin URL of the control plane (default http://127.0.0.1:9090).',
};

/** The table that drives parsing, precedence, validation and --help. Order is help order. */
export const SETTINGS: readonly Setting[] = [
  ...SERVER_SETTINGS,
  ...REBALANCE_SETTINGS,
  ...DISCOVERY_SETTINGS,
  ...ENVOY_SETTINGS,
  ...ENVOY_VIEW_SETTINGS,
  ...BALANCING_SETTINGS,
  ...LEADER_ELECTION_SETTINGS,
  ...TIMING_SETTINGS,
];

export const settingByKey: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.key, s]));
export const settingByFlag: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.flag, s]));
export const settingByEnv: ReadonlyMap<string, Setting> = new Map(SETTINGS.map((s) => [s.env, s]));
