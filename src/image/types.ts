/** What the compute side needs from the image service. */
export interface ImageRecord {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  owner: string | null;
  size: number | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  created_at: string;
  updated_at: string;
  /** Extra (non-base) properties, e.g. `hw_*`, `instance_uuid`, `image_type`. */
  properties: Record<string, string>;
}

export interface ImageCatalog {
  /** The image if it exists and `projectId` may see it (public, shared, community or owned); admins see all. */
  get(id: string, projectId: string | null, isAdmin: boolean): Promise<ImageRecord | null>;
}
