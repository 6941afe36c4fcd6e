"""What the SMPP and CMPP links share: the protocol-independent half of a link."""
