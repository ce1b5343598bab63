// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the module that owns these tables
export interface IdentityTables {}
