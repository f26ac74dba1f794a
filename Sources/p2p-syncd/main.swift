print("p2p-syncd")
