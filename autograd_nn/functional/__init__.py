"""autograd_nn.functional"""
