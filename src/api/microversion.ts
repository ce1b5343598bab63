import { ApiError, badRequest } from '../errors.js';

/** Nova's minimum and master's maximum microversion. */
export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.104';

/** Release profiles cap the maximum microversion, as a cloud of that release would. */
export const RELEASE_MAX: Record<string, string> = {
  train: '2.79',
  ussuri: '2.87',
  victoria: '2.87',
  wallaby: '2.88',
  xena: '2.90',
  yoga: '2.90',
  zed: '2.93',
  '2023.1': '2.95',
  '2023.2': '2.95',
  '2024.1': '2.96',
  '2024.2': '2.96',
  '2025.1': '2.100',
  '2025.2': '2.100',
  '2026.1': '2.103',
  master: MAX_VERSION,
};

export class ApiVersion {
  readonly major: number;
  readonly minor: number;
  constructor(major: number, minor: number) {
    this.major = major;
    this.minor = minor;
  }
  static parse(text: string): ApiVersion {
    const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
    if (!m) {
      throw badRequest(
        `API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`,
      );
    }
    return new ApiVersion(Number(m[1]), Number(m[2]));
  }
  compare(other: ApiVersion | string): number {
    const o = typeof other === 'string' ? ApiVersion.parse(other) : other;
    return this.major - o.major || this.minor - o.minor;
  }
  /** True when this version is at least `v` ("2.47"). */
  ge(v: string): boolean {
    return this.compare(v) >= 0;
  }
  /** True when this version is strictly below `v`. */
  lt(v: string): boolean {
    return this.compare(v) < 0;
  }
  /** True when min <= this <= max (either bound optional). */
  within(min?: string, max?: string): boolean {
    return (min === undefined || this.ge(min)) && (max === undefined || this.compare(max) <= 0);
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export interface VersionBounds {
  min: ApiVersion;
  max: ApiVersion;
}

export function boundsFor(releaseProfile: string): VersionBounds {
  const max = RELEASE_MAX[releaseProfile];
  if (max === undefined) {
    throw new Error(
      `unknown release profile '${releaseProfile}'; known: ${Object.keys(RELEASE_MAX).join(', ')}`,
    );
  }
  return { min: ApiVersion.parse(MIN_VERSION), max: ApiVersion.parse(max) };
}

/**
 * Picks the requested compute microversion from the headers, as Nova does:
 * `OpenStack-API-Version: compute X.Y` first, then the legacy
 * `X-OpenStack-Nova-API-Version: X.Y`; absent means the minimum.
 */
export function negotiate(
  headers: Record<string, string | string[] | undefined>,
  bounds: VersionBounds,
): ApiVersion {
  const requested = requestedVersion(headers);
  if (requested === undefined) return bounds.min;
  if (requested.toLowerCase() === 'latest') return bounds.max;
  const v = ApiVersion.parse(requested);
  if (v.compare(bounds.min) < 0 || v.compare(bounds.max) > 0) {
    throw new ApiError(
      406,
      `Version ${requested} is not supported by the API. Minimum is ${bounds.min} and maximum is ${bounds.max}.`,
    );
  }
  return v;
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(','));
}

function requestedVersion(headers: Record<string, string | string[] | undefined>): string | undefined {
  for (const entry of headerValues(headers['openstack-api-version'])) {
    const parts = entry.trim().split(/\s+/);
    if (parts[0]?.toLowerCase() === 'compute' && parts.length === 2 && parts[1] !== undefined) return parts[1];
    if (parts[0]?.toLowerCase() === 'compute') return parts.slice(1).join(' ');
  }
  const legacy = headerValues(headers['x-openstack-nova-api-version'])[0];
  return legacy === undefined ? undefined : legacy.trim();
}

export function versionHeaders(v: ApiVersion): Record<string, string> {
  return {
    'openstack-api-version': `compute ${v}`,
    'x-openstack-nova-api-version': `${v}`,
    vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}
