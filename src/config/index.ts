// Configuration: the only reader of flags, environment and config files. Everything else
// receives a validated, frozen Config whose setting names carry their units.
export { loadConfig, type LoadInput, type Loaded } from './load';
export { helpText } from './help';
export { defaultConfig, withOverrides, validateConfig } from './values';
export { type Config, type DeepPartial, type LogLevel, type SettingKey } from './config-types';
export { type Setting } from './setting-fields';
export { COMMAND_ENV, SETTINGS } from './settings';
export { defaultPolicy, parsePolicy, diffPolicies, type Policy } from './policy';
export { PolicySource, filePolicyFeed, type AppliedPolicy, type PolicyFeed, type PolicySink } from './policy-source';
