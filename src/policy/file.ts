import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** Reads a policy.yaml or policy.json of rule overrides (name -> check string). */
export function loadPolicyOverrides(path: string | undefined): Record<string, string> {
  if (path === undefined) return {};
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`policy file ${path}: expected a mapping of rule names to check strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new Error(`policy file ${path}: rule ${k} must be a string`);
    out[k] = v;
  }
  return out;
}
