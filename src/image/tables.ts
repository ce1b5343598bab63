/**
 * Image tables. Times are ISO-8601 strings in UTC with microseconds
 * (`2026-11-22T14:50:46.948446`), as elsewhere in the database.
 */
export interface ImageRow {
  id: string;
  name: string | null;
  /** queued, saving, active, killed, deleted, pending_delete, deactivated, uploading, importing. */
  status: string;
  /** public, private, shared or community. */
  visibility: string;
  protected: number;
  os_hidden: number;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  /** The owning project, or null (visible to every project). */
  owner: string | null;
  size: number | null;
  virtual_size: number | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** 0 = live, 1 = deleted. */
  deleted: number;
}

/** An extra (non-base) property: a string value under a free-form key. */
export interface ImagePropertyRow {
  image_id: string;
  name: string;
  value: string;
}

export interface ImageTagRow {
  image_id: string;
  value: string;
}

/** A project an image is shared with (visibility `shared`). */
export interface ImageMemberRow {
  image_id: string;
  member: string;
  /** pending, accepted or rejected. */
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ImageTables {
  images: ImageRow;
  image_properties: ImagePropertyRow;
  image_tags: ImageTagRow;
  image_members: ImageMemberRow;
}
