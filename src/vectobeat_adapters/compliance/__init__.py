"""The compliance desk's machinery: a guild's data export (`export`), the encrypted archive
store (`vault`), erasure across every store (`erasure`) and the desk that runs requests in the
background and mails the results (`desk`)."""
