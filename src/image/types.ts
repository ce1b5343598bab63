/** What the compute side needs from the image service. */
export interface ImageRecord {
  id: string;
  name: string | null;
  /** queued, saving, active, killed, deleted, pending_delete, deactivated, uploading, importing. */
  status: string;
  visibility: string;
  owner: string | null;
  size: number | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  /** `2026-11-22T14:50:47Z`. */
  created_at: string;
  updated_at: string;
  /** Extra (non-base) properties, e.g. `hw_*`, `instance_uuid`, `image_type`. */
  properties: Record<string, string>;
  /** md5 of the data, once uploaded. */
  checksum?: string | null;
  virtual_size?: number | null;
  protected?: boolean;
  tags?: string[];
}

export interface ImageCatalog {
  /**
   * The image if it exists (not deleted) and `projectId` may see it (public,
   * community, owned, shared with it as a member, or without owner); admins
   * see all. Callers decide what a non-active status means for them.
   */
  get(id: string, projectId: string | null, isAdmin: boolean): Promise<ImageRecord | null>;
}

/** An image registered by another service (e.g. a server snapshot). */
export interface NewImage {
  /** Default: a random UUID. */
  id?: string;
  name: string | null;
  /** The owning project. */
  owner: string | null;
  /** Default `private`. */
  visibility?: 'public' | 'private' | 'shared' | 'community';
  disk_format?: string | null;
  container_format?: string | null;
  min_disk?: number;
  min_ram?: number;
  protected?: boolean;
  os_hidden?: boolean;
  /** Extra properties, e.g. image_type=snapshot, instance_uuid, base_image_ref. */
  properties?: Record<string, string>;
  tags?: string[];
}
