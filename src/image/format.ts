/** Disk image format inspection (virtual size) and the seed image's bytes. */

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

/**
 * The virtual size of an image from its first bytes: the qcow2 header's size
 * field for qcow2, the data size for raw and iso; null when unknown.
 */
export function virtualSize(diskFormat: string | null, head: Buffer, size: number): number | null {
  if (head.length >= 32 && head.readUInt32BE(0) === QCOW2_MAGIC) {
    const v = head.readBigUInt64BE(24);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  }
  if (diskFormat === 'raw' || diskFormat === 'iso') return size;
  return null;
}

/**
 * A small but well-formed, empty qcow2 (version 2) image: 4 KiB clusters,
 * header, one L1 table cluster, a refcount table and one refcount block.
 * Every guest cluster is unallocated, so it reads as zeros.
 */
export function emptyQcow2(virtualBytes: number): Buffer {
  const clusterBits = 12;
  const cluster = 1 << clusterBits;
  const l2Entries = cluster / 8;
  const bytesPerL1 = l2Entries * cluster;
  const l1Size = Math.ceil(virtualBytes / bytesPerL1);
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cluster));
  const l1Offset = cluster;
  const refTableOffset = l1Offset + l1Clusters * cluster;
  const refBlockOffset = refTableOffset + cluster;
  const total = refBlockOffset + cluster;
  const clusters = total / cluster;
  if (clusters > cluster / 2) throw new Error('virtual size too large for one refcount block');

  const buf = Buffer.alloc(total);
  let o = 0;
  o = buf.writeUInt32BE(QCOW2_MAGIC, o);
  o = buf.writeUInt32BE(2, o); // version
  o = buf.writeBigUInt64BE(0n, o); // backing_file_offset
  o = buf.writeUInt32BE(0, o); // backing_file_size
  o = buf.writeUInt32BE(clusterBits, o);
  o = buf.writeBigUInt64BE(BigInt(virtualBytes), o); // size
  o = buf.writeUInt32BE(0, o); // crypt_method
  o = buf.writeUInt32BE(l1Size, o);
  o = buf.writeBigUInt64BE(BigInt(l1Offset), o);
  o = buf.writeBigUInt64BE(BigInt(refTableOffset), o);
  o = buf.writeUInt32BE(1, o); // refcount_table_clusters
  o = buf.writeUInt32BE(0, o); // nb_snapshots
  buf.writeBigUInt64BE(0n, o); // snapshots_offset
  // Refcount table: one block; the block holds 16-bit counts, one per host cluster in use.
  buf.writeBigUInt64BE(BigInt(refBlockOffset), refTableOffset);
  for (let i = 0; i < clusters; i++) buf.writeUInt16BE(1, refBlockOffset + i * 2);
  return buf;
}
