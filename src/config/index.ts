// Configuration: the only reader of flags, environment and config files. Everything else
// receives a validated, frozen Config whose setting names carry their units.
export { loadConfig, type LoadInput, type Loaded } from './load';
export { helpText } from './help';
export { defaultConfig, withOverrides, validateConfig } from './values';
export { SETTINGS, type Config, type DeepPartial, type LogLevel, type Setting, type SettingKey } from './schema';
export { defaultPolicy, parsePolicy, diffPolicies, type Policy } from './policy';
export { PolicySource, filePolicyFeed, type AppliedPolicy, type PolicyFeed, type PolicySink } from './policy-source';
